// Errors of the descriptor download: plain text, for curl users.
import type { FastifyReply } from "fastify";
import type { RegistryError } from "../../core/errors.js";
import { httpStatus } from "../../http/status.js";

export function renderError(reply: FastifyReply, err: RegistryError): FastifyReply {
  const details = err.fields.details?.length ? `\n${err.fields.details.join("\n")}` : "";
  return reply
    .code(httpStatus[err.code])
    .type("text/plain; charset=utf-8")
    .send(`${err.message}${details}\n`);
}
