// GET /maven/{group}/{artifactId}/maven-metadata.xml (+ .sha1, .md5): the versions Maven resolves ranges and
// LATEST/RELEASE from. Listing generates the head first (services/catalog.ts), so `<release>` always resolves.
import { createHash } from "node:crypto";
import { xml } from "../../generate/package/maven.js";
import type { ArtifactListing, Catalog } from "./catalog.js";
import { type MavenHandler, sendChecksum } from "./handler.js";

/** `20240102030405`: Maven's lastUpdated, in UTC. */
export function mavenTimestamp(iso: string): string {
  return new Date(iso).toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

/**
 * The metadata, from the listing alone: commit times (not generation times), so a cache wipe and regeneration
 * give the same bytes, and with them the same checksums.
 */
export function renderMetadata(groupId: string, artifactId: string, listing: ArtifactListing): string {
  const versions = listing.versions.map((v) => `      <version>${xml(v.version)}</version>\n`).join("");
  const newest = listing.versions
    .map((v) => v.commit.createdAt)
    .sort()
    .at(-1);
  const latest = listing.latest ?? listing.versions.at(-1)?.version;
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    "<metadata>\n" +
    `  <groupId>${xml(groupId)}</groupId>\n` +
    `  <artifactId>${xml(artifactId)}</artifactId>\n` +
    "  <versioning>\n" +
    (latest ? `    <latest>${xml(latest)}</latest>\n    <release>${xml(latest)}</release>\n` : "") +
    (versions ? `    <versions>\n${versions}    </versions>\n` : "") +
    (newest ? `    <lastUpdated>${mavenTimestamp(newest)}</lastUpdated>\n` : "") +
    "  </versioning>\n" +
    "</metadata>\n"
  );
}

export function createMetadataHandler(catalog: Catalog, groupId: string): MavenHandler<"metadata"> {
  return async (request, reply, target) => {
    const listing = await catalog.list(request.principal, target.parts);
    const body = renderMetadata(groupId, target.artifactId, listing);
    // Listings grow with pushes and warming: clients revalidate.
    reply.header("cache-control", "no-cache");
    if (target.checksum) {
      return sendChecksum(reply, target.checksum, {
        sha1: createHash("sha1").update(body).digest("hex"),
        md5: createHash("md5").update(body).digest("hex"),
      });
    }
    const etag = `"${createHash("sha1").update(body).digest("base64url")}"`;
    reply.header("etag", etag);
    if (request.headers["if-none-match"] === etag) return reply.code(304).send();
    return reply.type("text/xml; charset=utf-8").send(body);
  };
}
