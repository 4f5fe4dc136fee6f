// GET /gems/versions: every gem the caller may see, its versions and its /info file's MD5 (Bundler's first request).
import type { FastifyReply, FastifyRequest } from "fastify";
import type { RubygemsCatalog } from "./catalog.js";
import { renderVersions } from "./render.js";
import { sendIndex } from "./send-index.js";

export function createVersionsHandler(catalog: RubygemsCatalog) {
  return async (request: FastifyRequest, reply: FastifyReply) =>
    sendIndex(request, reply, renderVersions(await catalog.gems(request.principal)));
}
