// GET /npm/-/package/@scope%2fname/dist-tags: `npm dist-tag ls`; the same tags the packument carries.
import type { FastifyReply, FastifyRequest } from "fastify";
import { principalOf } from "../../http/principal.js";
import type { AuthService } from "../../services/auth.js";
import type { Catalog } from "./catalog.js";
import { sendError } from "./errors.js";
import { type PackageParams, packageNameOf } from "./request.js";

export function createDistTagsHandler(auth: AuthService, catalog: Catalog) {
  return async (request: FastifyRequest<{ Params: PackageParams }>, reply: FastifyReply) => {
    try {
      const principal = await principalOf(auth, request);
      const listing = await catalog.list(principal, packageNameOf(request.params));
      return reply.header("cache-control", "no-cache").send(listing.distTags);
    } catch (reason) {
      return sendError(reply, reason);
    }
  };
}
