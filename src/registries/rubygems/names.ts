// GET /gems/names: the names of every gem the caller may see (neither client needs it; the compact index has it).
import type { FastifyReply, FastifyRequest } from "fastify";
import type { RubygemsCatalog } from "./catalog.js";
import { renderNames } from "./render.js";
import { sendIndex } from "./send-index.js";

export function createNamesHandler(catalog: RubygemsCatalog) {
  return async (request: FastifyRequest, reply: FastifyReply) =>
    sendIndex(request, reply, renderNames(await catalog.gems(request.principal)));
}
