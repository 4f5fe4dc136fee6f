// GET /npm/-/ping and /npm/-/whoami: what `npm ping` and `npm whoami` ask before anything else.
import type { FastifyReply, FastifyRequest } from "fastify";
import { Code, RegistryError } from "../../core/errors.js";
import { principalOf } from "../../http/principal.js";
import type { AuthService } from "../../services/auth.js";
import { sendError } from "./errors.js";

export function createPingHandler(auth: AuthService) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      await principalOf(auth, request);
      return reply.send({});
    } catch (reason) {
      return sendError(reply, reason);
    }
  };
}

export function createWhoamiHandler(auth: AuthService) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      const principal = await principalOf(auth, request);
      if (!principal.user) {
        throw new RegistryError(
          Code.Unauthenticated,
          "not logged in: add //HOST/npm/:_authToken=TOKEN to .npmrc",
        );
      }
      return reply.send({ username: principal.user.name });
    } catch (reason) {
      return sendError(reply, reason);
    }
  };
}
