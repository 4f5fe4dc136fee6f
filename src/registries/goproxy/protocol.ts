// What the Go module proxy offers, one method per endpoint (Athens' download.Protocol): each handler parses the
// path, makes one call with the caller, and renders the answer.
import type { Readable } from "node:stream";
import { goVersion, type SyntheticVersion } from "../../core/synthetic-version.js";
import type { ArtifactRecord } from "../../core/types.js";
import type { GoModuleRef } from "../../ecosystems/go/names.js";
import { renderGoMod } from "../../generate/package/go.js";
import type { Principal } from "../../services/auth.js";
import { atVersion, type GenerationService } from "../../services/generation.js";

/** `.info` and `@latest`: `{"Version","Time"}`. */
export interface GoVersionInfo {
  Version: string;
  Time: string;
}

/** What `.info` asks for: an exact version, or a query (a label or commit id) resolved to today's version. */
export type GoInfoRequest = { version: SyntheticVersion } | { query: string };

export interface GoZip {
  record: ArtifactRecord;
  /** `{module name}-{version}.zip`. */
  fileName: string;
  open(): Promise<Buffer | Readable>;
}

export interface GoProtocol {
  /** Every synthetic version, oldest first. */
  list(principal: Principal, module: GoModuleRef): Promise<string[]>;
  /** The newest template version over the head of the module's default label. */
  latest(principal: Principal, module: GoModuleRef): Promise<GoVersionInfo>;
  info(principal: Principal, module: GoModuleRef, request: GoInfoRequest): Promise<GoVersionInfo>;
  /** The go.mod, from metadata alone (no plugin runs), identical to the zip's. */
  mod(principal: Principal, module: GoModuleRef, version: SyntheticVersion): Promise<string>;
  /** The module zip, generated on first request. */
  zip(
    principal: Principal,
    module: GoModuleRef,
    version: SyntheticVersion,
    signal?: AbortSignal,
  ): Promise<GoZip>;
}

export function createGoProtocol(
  generation: Pick<
    GenerationService,
    "locate" | "resolve" | "generate" | "open" | "describe" | "listVersions"
  >,
): GoProtocol {
  const goArtifact = (principal: Principal, module: GoModuleRef, version: SyntheticVersion) =>
    generation.resolve(principal, {
      template: module.template,
      module: module.module,
      ...atVersion(version),
      scope: "module",
      flavour: "go",
    });
  const newest = async (principal: Principal, module: GoModuleRef, ref: string): Promise<GoVersionInfo> => {
    const found = await generation.locate(principal, {
      template: module.template,
      module: module.module,
      templateVersion: "latest",
      commit: { ref },
    });
    return { Version: goVersion(found.version), Time: found.commit.createdAt };
  };

  return {
    async list(principal, module) {
      const versions = await generation.listVersions(principal, module.template, module.module);
      return versions
        .map((v) => v.version)
        .sort((a, b) => a.templateVersion - b.templateVersion || a.commitSeq - b.commitSeq)
        .map(goVersion);
    },

    latest: (principal, module) => newest(principal, module, ""),

    async info(principal, module, request) {
      // The GOPROXY protocol lets .info answer a query with the canonical version it resolves to today.
      if ("query" in request) return newest(principal, module, request.query);
      const { commit } = await generation.locate(principal, {
        template: module.template,
        module: module.module,
        ...atVersion(request.version),
      });
      return { Version: goVersion(request.version), Time: commit.createdAt };
    },

    async mod(principal, module, version) {
      // Go fetches .mod for every version in the build list, so this must stay cheap: metadata only.
      return renderGoMod(await generation.describe(await goArtifact(principal, module, version)));
    },

    async zip(principal, module, version, signal) {
      const resolved = await goArtifact(principal, module, version);
      const record = await generation.generate(resolved, { signal });
      return {
        record,
        fileName: `${module.module.name}-${goVersion(version)}.zip`,
        open: () => generation.open(record, signal),
      };
    },
  };
}
