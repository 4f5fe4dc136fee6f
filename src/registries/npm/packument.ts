// GET /npm/@scope%2fname (and /npm/@scope/name): the packument, every listed version with its integrity.
import { createHash } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { npmBareName } from "../../ecosystems/npm/names.js";
import { npmDescription } from "../../generate/package/npm.js";
import type { Catalog, PackageListing } from "./catalog.js";
import { type PackageParams, packageNameOf, registryBase } from "./request.js";

/** The packument npm, pnpm, yarn and Deno read: `dist.integrity` and `dist.shasum` for every listed version. */
export function renderPackument(listing: PackageListing, base: string): Record<string, unknown> {
  const bare = npmBareName(listing.parts);
  const versions: Record<string, unknown> = {};
  const time: Record<string, string> = {};
  for (const v of listing.versions) {
    versions[v.version] = {
      _id: `${listing.name}@${v.version}`,
      name: listing.name,
      version: v.version,
      description: npmDescription(listing.parts, v.commit.id, v.record.templateVersion),
      type: "module",
      dependencies: v.dependencies,
      // npm warns `deprecated NAME@VERSION: …` on install; absent again once undeprecated (nothing else changes).
      ...(v.deprecated !== undefined ? { deprecated: v.deprecated } : {}),
      dist: {
        tarball: `${base}/${listing.name}/-/${bare}-${v.version}.tgz`,
        integrity: v.extras.integrity,
        shasum: v.extras.shasum,
      },
    };
    time[v.version] = v.commit.createdAt;
  }
  const dates = Object.values(time).sort();
  const latest = listing.versions.find((v) => v.version === listing.distTags.latest);
  return {
    _id: listing.name,
    name: listing.name,
    ...(latest
      ? { description: npmDescription(listing.parts, latest.commit.id, latest.record.templateVersion) }
      : {}),
    "dist-tags": listing.distTags,
    versions,
    // Commit times, not generation times: they do not move when the cache is wiped and rebuilt.
    time: { ...(dates.length > 0 ? { created: dates[0], modified: dates[dates.length - 1] } : {}), ...time },
    ...(dates.length > 0 ? { modified: dates[dates.length - 1] } : {}),
  };
}

export function createPackumentHandler(catalog: Catalog, publicUrl: string | undefined) {
  return async (request: FastifyRequest<{ Params: PackageParams }>, reply: FastifyReply) => {
    const principal = request.principal;
    const listing = await catalog.list(principal, packageNameOf(request.params));
    const body = JSON.stringify(renderPackument(listing, registryBase(request, publicUrl)));
    const etag = `"${createHash("sha1").update(body).digest("base64url")}"`;
    // Listings grow as versions are pushed and generated: clients revalidate, and a 304 costs no body.
    reply.header("etag", etag).header("cache-control", "no-cache");
    if (request.headers["if-none-match"] === etag) return reply.code(304).send();
    return reply.type("application/json; charset=utf-8").send(body);
  };
}
