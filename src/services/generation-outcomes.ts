// What became of the latest generation of each template version over each commit, as this process saw it: the
// web UI offers no template whose generation for the module failed (and would fail again). Kept per process and
// bounded, like the generator's failure memory; a success forgets the failure.
import { createCache } from "../core/cache.js";
import type { ArtifactRecord } from "../core/types.js";
import { isLastingFailure } from "../generate/failure-memory.js";
import type { Wrapper } from "../generate/generator.js";
import type { ArtifactJob } from "./artifact-generator.js";

export interface GenerationOutcomes {
  /** Whether the last generation of this template version over this commit (any scope or flavour) failed lastingly. */
  failed(templateId: string, templateVersion: number, commitId: string): boolean;
}

export interface GenerationOutcomeRecorder extends GenerationOutcomes {
  /** The generator wrapper that records each generation's outcome. */
  wrapper: Wrapper<ArtifactRecord, ArtifactJob>;
}

export function createGenerationOutcomes(maxKeys = 10_000): GenerationOutcomeRecorder {
  const failures = createCache<true>({ bound: { maxEntries: maxKeys } });
  const keyOf = (templateId: string, templateVersion: number, commitId: string) =>
    `${templateId}/${templateVersion}/${commitId}`;
  return {
    failed: (templateId, templateVersion, commitId) =>
      failures.has(keyOf(templateId, templateVersion, commitId)),
    wrapper: (inner) => ({
      async generate(job, signal) {
        const { templateId, templateVersion, commitId } = job.artifact;
        const key = keyOf(templateId, templateVersion, commitId);
        try {
          const result = await inner.generate(job, signal);
          failures.delete(key);
          return result;
        } catch (err) {
          if (isLastingFailure(err)) failures.set(key, true);
          throw err;
        }
      },
    }),
  };
}
