// Errors of the npm registry: `{"error": "…"}` with the HTTP status of the domain code, as npm prints them.
import type { FastifyReply } from "fastify";
import type { RegistryError } from "../../core/errors.js";
import { httpStatus } from "../../http/status.js";

export function renderError(reply: FastifyReply, err: RegistryError): FastifyReply {
  const details = err.fields.details?.length ? `\n${err.fields.details.join("\n")}` : "";
  return reply
    .code(httpStatus[err.code])
    .header("cache-control", "no-store")
    .type("application/json; charset=utf-8")
    .send(JSON.stringify({ error: `${err.message}${details}` }));
}
