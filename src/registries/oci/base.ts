// GET /v2/: the version check; reaching it at all means the credentials were accepted.
import type { FastifyReply, FastifyRequest } from "fastify";

export async function base(_request: FastifyRequest, reply: FastifyReply) {
  return reply.type("application/json").send("{}");
}
