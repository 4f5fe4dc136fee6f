// What a crate offers: its name read back into a template and a module, its index lines (every listed version with
// its checksum and dependencies), and the artifact behind each download. The version policy is the shared catalog's
// (services/catalog.ts).
import type { Readable } from "node:stream";
import { Code, isRegistryError, RegistryError } from "../../core/errors.js";
import { parseFullName } from "../../core/names.js";
import { semverVersion } from "../../core/synthetic-version.js";
import type { ArtifactRecord } from "../../core/types.js";
import { type CrateParts, parseCargoCrateName, parseCargoVersion } from "../../ecosystems/cargo/names.js";
import type { CargoIndexDep, CargoPin } from "../../generate/package/cargo.js";
import { extrasOf } from "../../services/artifact-extras.js";
import type { Principal } from "../../services/auth.js";
import {
  type CatalogSettings,
  createCatalog,
  type PackageRef,
  type PinnedPackage,
} from "../../services/catalog.js";

/** One version as the sparse index lists it. */
export interface IndexEntry {
  version: string;
  /** Hex sha256 of the .crate. */
  cksum: string;
  deps: CargoIndexDep[];
}

/** The one call per endpoint each handler of this registry makes. */
export interface CargoCatalog {
  /** A crate's listed versions, oldest first. */
  index(principal: Principal, crate: string): Promise<IndexEntry[]>;
  /** One version's .crate, generated if needed, and how to read its bytes. */
  crate(
    principal: Principal,
    crate: string,
    version: string,
    signal?: AbortSignal,
  ): Promise<{ record: ArtifactRecord; open(): Promise<Buffer | Readable> }>;
  /** Stops background warming (the server is closing). */
  close(): void;
}

export type CargoCatalogOptions = CatalogSettings;

const expected =
  "{templateOwner}_{templateName}_{moduleOwner}_{moduleName}, e.g. protodepot_rust_acme_payments";

function parsePins(record: ArtifactRecord): PinnedPackage[] {
  const text = extrasOf(record, "cargo")?.pins;
  if (!text) return [];
  return (JSON.parse(text) as CargoPin[]).flatMap((p) => {
    const version = parseCargoVersion(p.version);
    if (!version) return [];
    return [
      { template: parseFullName("template", p.template), module: parseFullName("module", p.module), version },
    ];
  });
}

/** The package a crate name names: a 404 for any other name (cargo asks for names it only guesses, too). */
function packageOf(crate: string): PackageRef {
  const parts: CrateParts | undefined = parseCargoCrateName(crate);
  if (!parts) {
    throw new RegistryError(
      Code.NotFound,
      `crate ${crate.slice(0, 300)} does not exist: this registry serves ${expected}`,
    );
  }
  return parts;
}

export function createCargoCatalog(opts: CargoCatalogOptions): CargoCatalog {
  const catalog = createCatalog({
    ...opts,
    flavour: "cargo",
    // The index has no tags: the default label's head (what `"1"` resolves to under the newest template version)
    // is generated before listing, other versions are listed once generated.
    isTag: () => false,
    dependenciesOf: parsePins,
  });
  return {
    async index(principal, crate) {
      const listing = await catalog.list(principal, packageOf(crate));
      // Every listed line has its checksum: a record without one (never written so) is left out.
      return listing.versions.flatMap((v) => {
        const extras = extrasOf(v.record, "cargo");
        if (!extras) return [];
        const deps = extras.deps ? (JSON.parse(extras.deps) as CargoIndexDep[]) : [];
        return [{ version: semverVersion(v.version), cksum: extras.cksum, deps }];
      });
    },

    async crate(principal, crate, version, signal) {
      const pkg = packageOf(crate);
      const v = parseCargoVersion(version);
      if (!v) {
        throw new RegistryError(
          Code.NotFound,
          `crate ${crate} has no version ${version.slice(0, 100)}: versions look like 1.{template version}.{commit sequence}`,
        );
      }
      try {
        const { record, open } = await catalog.artifact(principal, pkg, v, signal);
        return { record, open };
      } catch (err) {
        if (isRegistryError(err, Code.NotFound))
          throw new RegistryError(Code.NotFound, `crate ${crate} has no version ${version}: ${err.message}`);
        throw err;
      }
    },

    close: () => catalog.close(),
  };
}
