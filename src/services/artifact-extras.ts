// What each flavour's packager keeps beside an artifact (ArtifactRecord.extra), read back as types: a registry
// serves hashes, poms and METADATA from the record without opening the artifact.
import type { ArtifactExtras } from "../core/artifact-extras.js";
import type { ArtifactRecord, Flavour } from "../core/types.js";

export type { ArtifactExtras };

type Fields<T> = { required: readonly (keyof T & string)[]; optional: readonly (keyof T & string)[] };

/** Without a required field a record cannot be served (an index needs its hashes): it reads as undefined. */
const fields: { [F in Flavour]: Fields<ArtifactExtras[F]> } = {
  archive: { required: [], optional: [] },
  go: { required: ["goModule", "goVersion"], optional: [] },
  npm: { required: ["integrity", "shasum"], optional: ["dependencies"] },
  pypi: { required: ["sha256", "metadataSha256"], optional: ["metadata", "pins"] },
  maven: { required: ["sha1", "md5"], optional: ["pom", "pomSha1", "pomMd5", "dependencies"] },
  "maven-sources": { required: ["sha1", "md5"], optional: [] },
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
