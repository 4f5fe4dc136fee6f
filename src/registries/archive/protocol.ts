// What the archive registry offers: one generated tar.gz (or zip of the same files) per (template version, module
// reference, scope).
import type { Readable } from "node:stream";
import type { FullName } from "../../core/names.js";
import type { SyntheticVersion } from "../../core/synthetic-version.js";
import type { ArtifactRecord, Commit, Scope } from "../../core/types.js";
import type { Principal } from "../../services/auth.js";
import type { GenerationService, TemplateVersionRef } from "../../services/generation.js";

export type ArchiveFormat = "tar.gz" | "zip";

export interface ArchiveRequest {
  template: FullName;
  /** As the URL names it: `v3`, `3` or `latest`. */
  templateVersion: string;
  module: FullName;
  /** A label or commit id. */
  ref: string;
  scope: Scope;
  /** Each is its own artifact (flavour `archive` or `zip`), deterministic like every other. */
  format: ArchiveFormat;
}

export interface Archive {
  record: ArtifactRecord;
  commit: Commit;
  version: SyntheticVersion;
  open(): Promise<Buffer | Readable>;
}

export interface ArchiveProtocol {
  /** The archive, generated on first request. */
  download(principal: Principal, request: ArchiveRequest, signal?: AbortSignal): Promise<Archive>;
}

export function createArchiveProtocol(
  generation: Pick<GenerationService, "resolve" | "generate" | "open">,
): ArchiveProtocol {
  return {
    async download(principal, request, signal) {
      const templateVersion: TemplateVersionRef = { name: request.templateVersion };
      const resolved = await generation.resolve(principal, {
        template: request.template,
        templateVersion,
        module: request.module,
        commit: { ref: request.ref },
        scope: request.scope,
        flavour: request.format === "zip" ? "zip" : "archive",
      });
      const record = await generation.generate(resolved, { signal });
      return {
        record,
        commit: resolved.commit,
        version: resolved.version,
        open: () => generation.open(record, signal),
      };
    },
  };
}
