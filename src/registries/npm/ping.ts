// GET /npm/-/ping and /npm/-/whoami: what `npm ping` and `npm whoami` ask before anything else.
import type { FastifyReply, FastifyRequest } from "fastify";
import { Code, RegistryError } from "../../core/errors.js";

export async function ping(_request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  return reply.send({});
}

export async function whoami(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  if (!request.principal.user) {
    throw new RegistryError(
      Code.Unauthenticated,
      "not logged in: add //HOST/npm/:_authToken=TOKEN to .npmrc",
    );
  }
  return reply.send({ username: request.principal.user.name });
}
