// Errors of the RubyGems source: plain text with the HTTP status of the domain code; gem and Bundler print both.
import type { FastifyReply } from "fastify";
import type { RegistryError } from "../../core/errors.js";
import { httpStatus } from "../../http/status.js";

export function renderError(reply: FastifyReply, err: RegistryError): FastifyReply {
  const details = err.fields.details?.length ? `\n${err.fields.details.join("\n")}` : "";
  return reply
    .code(httpStatus[err.code])
    .header("cache-control", "no-store")
    .type("text/plain; charset=utf-8")
    .send(`${err.message}${details}\n`);
}
