// GET /npm/-/package/@scope%2fname/dist-tags: `npm dist-tag ls`; the same tags the packument carries.
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Catalog } from "./catalog.js";
import { type PackageParams, packageNameOf } from "./request.js";

export function createDistTagsHandler(catalog: Catalog) {
  return async (request: FastifyRequest<{ Params: PackageParams }>, reply: FastifyReply) => {
    const principal = request.principal;
    const listing = await catalog.list(principal, packageNameOf(request.params));
    return reply.header("cache-control", "no-cache").send(listing.distTags);
  };
}
