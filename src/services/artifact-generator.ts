// The composed engine of the server: one flight per artifact, cache (blobs first, metadata last), fair bounded runs.
import type { Registry } from "prom-client";
import type { ArtifactRecord } from "../core/types.js";
import { compose, createGenerator, type Generator } from "../generate/generator.js";
import { createGenerateMetrics } from "../generate/metrics.js";
import {
  type GenerationCache,
  type GenerationLog,
  withCache,
  withFairScheduling,
  withLogging,
  withSingleflight,
} from "../generate/wrappers.js";
import type { PluginRuntime } from "../plugins/runtime.js";
import type { BlobStore } from "../storage/blob/blob-store.js";
import { putContent } from "../storage/blob/content.js";
import type { MetadataStore } from "../storage/meta/metadata-store.js";
import { parseArtifactKey } from "./generation.js";

export interface ArtifactGeneratorOptions {
  meta: MetadataStore;
  blobs: BlobStore;
  runtime: PluginRuntime;
  limits: {
    maxFiles: number;
    maxOutputBytes: number;
    concurrency: number;
    /** Defaults to concurrency − 1 (at least 1). */
    ownerConcurrency?: number | undefined;
  };
  metrics: Registry;
  log: GenerationLog;
}

/** Artifacts live in the blob store by content and in the metadata store by key; a record is written last. */
export function createArtifactCache(meta: MetadataStore, blobs: BlobStore): GenerationCache<ArtifactRecord> {
  return {
    get: (key) => meta.getArtifact(parseArtifactKey(key)),
    async put(key, result) {
      const stored = await putContent(blobs, result.bytes);
      return meta.putArtifact({
        ...parseArtifactKey(key),
        blob: stored.key,
        digest: stored.digest,
        size: stored.size,
        extra: result.extra,
      });
    },
  };
}

export function createArtifactGenerator(opts: ArtifactGeneratorOptions): Generator<ArtifactRecord> {
  const engine = createGenerator({
    runtime: opts.runtime,
    limits: { maxFiles: opts.limits.maxFiles, maxOutputBytes: opts.limits.maxOutputBytes },
    metrics: createGenerateMetrics(opts.metrics),
  });
  // Singleflight outermost so concurrent first requests share one flight; the cache inside it so a request
  // arriving just after a flight lands reads the record instead of generating again.
  const cached = withCache(createArtifactCache(opts.meta, opts.blobs))(
    compose(
      engine,
      withLogging(opts.log),
      withFairScheduling({
        slots: opts.limits.concurrency,
        perOwner: opts.limits.ownerConcurrency ?? Math.max(1, opts.limits.concurrency - 1),
      }),
    ),
  );
  return compose(cached, withSingleflight<ArtifactRecord>());
}
