// What each flavour's packager keeps beside an artifact (ArtifactRecord.extra), read back as types: a registry
// serves hashes, poms and METADATA from the record without opening the artifact.
import type { ArtifactRecord, Flavour } from "../core/types.js";

export interface ArtifactExtras {
  archive: Record<string, never>;
  go: { goModule: string; goVersion: string };
  /** `dependencies`: the package.json `dependencies`, as JSON. */
  npm: { integrity: string; shasum: string; dependencies?: string };
  /** `pins`: the exact versions of our other packages the wheel requires, as JSON; `metadata`: its METADATA. */
  pypi: { sha256: string; metadataSha256: string; metadata?: string; pins?: string };
  /** The jar's checksums, and the pom with its own; `dependencies`: the pom's, as JSON. */
  maven: {
    sha1: string;
    md5: string;
    pom?: string;
    pomSha1?: string;
    pomMd5?: string;
    dependencies?: string;
  };
  /**
   * `sha256`: hex of the .gem (the compact index's `checksum:`); `dependencies`: the gem's runtime dependencies as
   * JSON `[name, requirement][]`; `pins`: our other gems it pins, as JSON (PypiPin's shape); `quickSpec`: base64 of
   * the deflated Marshal gemspec `gem install` fetches (it caches it forever, so it is built once and kept).
   */
  rubygems: { sha256: string; dependencies: string; quickSpec: string; pins?: string };
  zip: Record<string, never>;
  /** `cksum`: sha256 hex of the .crate; `deps`: the index line's dependencies and `pins` our crates among them, as JSON. */
  cargo: { cksum: string; deps?: string; pins?: string };
  /** `sha256`: hex of the archive, what a consumer's URL_HASH pins. */
  cmake: { sha256: string };
}

type Fields<T> = { required: readonly (keyof T & string)[]; optional: readonly (keyof T & string)[] };

/** Without a required field a record cannot be served (an index needs its hashes): it reads as undefined. */
const fields: { [F in Flavour]: Fields<ArtifactExtras[F]> } = {
  archive: { required: [], optional: [] },
  go: { required: ["goModule", "goVersion"], optional: [] },
  npm: { required: ["integrity", "shasum"], optional: ["dependencies"] },
  pypi: { required: ["sha256", "metadataSha256"], optional: ["metadata", "pins"] },
  maven: { required: ["sha1", "md5"], optional: ["pom", "pomSha1", "pomMd5", "dependencies"] },
  rubygems: { required: ["sha256", "dependencies", "quickSpec"], optional: ["pins"] },
  zip: { required: [], optional: [] },
  cargo: { required: ["cksum"], optional: ["deps", "pins"] },
  cmake: { required: ["sha256"], optional: [] },
};

/** The record's extras as its flavour's packager wrote them, or undefined when a required one is missing. */
export function extrasOf<F extends Flavour>(
  record: ArtifactRecord,
  flavour: F,
): ArtifactExtras[F] | undefined {
  if (record.flavour !== flavour) return undefined;
  // The table above is checked against ArtifactExtras field by field: what it lists is what the result has.
  const { required, optional } = fields[flavour] as Fields<Record<string, string>>;
  const out: Record<string, string> = {};
  for (const name of required) {
    const value = record.extra[name];
    if (value === undefined) return undefined;
    out[name] = value;
  }
  for (const name of optional) {
    const value = record.extra[name];
    if (value !== undefined) out[name] = value;
  }
  return out as ArtifactExtras[F];
}
