// Errors of the Cargo registry: cargo's JSON error shape (`{"errors":[{"detail":…}]}`), which cargo prints for
// its API and shows beside the status for index and download failures.
import type { FastifyReply } from "fastify";
import { Code, type RegistryError } from "../../core/errors.js";
import { httpStatus } from "../../http/status.js";

export function renderError(reply: FastifyReply, err: RegistryError): FastifyReply {
  const details = err.fields.details?.length ? `\n${err.fields.details.join("\n")}` : "";
  // Cargo retries config.json with its token after a 401; the challenge names the scheme it uses.
  if (err.code === Code.Unauthenticated) reply.header("www-authenticate", "Cargo");
  return (
    reply
      // A 404 today may be a crate tomorrow (the next push): never let a cache keep it.
      .code(httpStatus[err.code])
      .header("cache-control", "no-store")
      .type("application/json; charset=utf-8")
      .send(JSON.stringify({ errors: [{ detail: `${err.message}${details}` }] }))
  );
}
