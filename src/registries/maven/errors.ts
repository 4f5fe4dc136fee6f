// Errors of the Maven repository: plain text with the HTTP status of the domain code. Maven prints only the status
// line, but curl users and logs read the message.
import type { FastifyReply } from "fastify";
import { Code, type RegistryError } from "../../core/errors.js";
import { httpStatus } from "../../http/status.js";

export function renderError(reply: FastifyReply, err: RegistryError): FastifyReply {
  const details = err.fields.details?.length ? `\n${err.fields.details.join("\n")}` : "";
  // Maven sends settings.xml <server> credentials only after this challenge.
  if (err.code === Code.Unauthenticated) reply.header("www-authenticate", 'Basic realm="protodepot"');
  return (
    reply
      // A 404 today may be a version tomorrow (the next push): never let a cache keep it.
      .code(httpStatus[err.code])
      .header("cache-control", "no-store")
      .type("text/plain; charset=utf-8")
      .send(`${err.message}${details}\n`)
  );
}
