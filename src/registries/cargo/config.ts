// GET /cargo/index/config.json and /cargo/token/index/config.json: where cargo downloads crates from, and whether
// it must send its token.
import type { FastifyReply, FastifyRequest } from "fastify";
import { renderConfig } from "./render.js";
import { type CargoRoot, rootBase } from "./request.js";

export function createConfigHandler(root: CargoRoot, publicUrl: string | undefined) {
  return async (request: FastifyRequest, reply: FastifyReply) =>
    reply
      .header("cache-control", "no-cache")
      .type("application/json")
      .send(renderConfig(rootBase(request, publicUrl, root), root === "token"));
}
