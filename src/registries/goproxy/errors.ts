// Errors of the Go module proxy: plain text (the go command prints it as "server response:") with the HTTP status of the code.
import type { FastifyReply } from "fastify";
import { Code, type RegistryError } from "../../core/errors.js";
import { httpStatus } from "../../http/status.js";

export function renderError(reply: FastifyReply, err: RegistryError): FastifyReply {
  const details = err.fields.details?.length ? `\n${err.fields.details.join("\n")}` : "";
  // A 404 today may be a version tomorrow (the next push): never let a cache keep it.
  // go sends ~/.netrc credentials unasked; the challenge tells curl users which scheme works.
  if (err.code === Code.Unauthenticated) reply.header("www-authenticate", 'Basic realm="protodepot"');
  return reply
    .code(httpStatus[err.code])
    .header("cache-control", "no-store")
    .type("text/plain; charset=utf-8")
    .send(`${err.message}${details}\n`);
}
