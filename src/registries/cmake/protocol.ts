// What the CMake registry offers: one archive per (template, module, synthetic version), for FetchContent with
// URL_HASH (docs/cmake.md).
import type { Readable } from "node:stream";
import { Code, isRegistryError, RegistryError } from "../../core/errors.js";
import { checkName } from "../../core/names.js";
import type { ArtifactRecord } from "../../core/types.js";
import { type CmakeParts, parseCmakeVersion } from "../../ecosystems/cmake/names.js";
import { extrasOf } from "../../services/artifact-extras.js";
import type { Principal } from "../../services/auth.js";
import { atVersion, type GenerationService } from "../../services/generation.js";

export interface CmakeArchive {
  record: ArtifactRecord;
  /** Hex SHA-256 of the archive: what FetchContent's URL_HASH pins. */
  sha256: string;
  open(): Promise<Buffer | Readable>;
}

export interface CmakeProtocol {
  /** The archive of one version, generated on first request. */
  archive(
    principal: Principal,
    pkg: CmakeParts,
    version: string,
    signal?: AbortSignal,
  ): Promise<CmakeArchive>;
}

export function createCmakeProtocol(
  generation: Pick<GenerationService, "resolve" | "generate" | "open">,
): CmakeProtocol {
  return {
    async archive(principal, pkg, version, signal) {
      for (const [kind, name] of [
        ["template owner", pkg.template.owner],
        ["template", pkg.template.name],
        ["module owner", pkg.module.owner],
        ["module", pkg.module.name],
      ] as const) {
        checkName(kind, name);
      }
      const v = parseCmakeVersion(version);
      const name = `${pkg.template.owner}/${pkg.template.name}/${pkg.module.owner}/${pkg.module.name}`;
      if (!v) {
        throw new RegistryError(
          Code.NotFound,
          `${name} has no version ${version.slice(0, 100)}: versions look like 1.{template version}.{commit sequence}`,
        );
      }
      try {
        const resolved = await generation.resolve(principal, {
          ...pkg,
          ...atVersion(v),
          scope: "module",
          flavour: "cmake",
        });
        const record = await generation.generate(resolved, { signal });
        const sha256 = extrasOf(record, "cmake")?.sha256 ?? record.digest.replace(/^sha256:/, "");
        return { record, sha256, open: () => generation.open(record, signal) };
      } catch (err) {
        if (isRegistryError(err, Code.NotFound))
          throw new RegistryError(Code.NotFound, `${name} has no version ${version}: ${err.message}`);
        throw err;
      }
    },
  };
}
