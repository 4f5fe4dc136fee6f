// What each flavour's packager keeps beside an artifact (ArtifactRecord.extra): written typed by the packagers
// (generate/package), read back typed by the registries (services/artifact-extras.ts).

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
  /** The `-sources.jar`'s checksums. */
  "maven-sources": { sha1: string; md5: string };
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
