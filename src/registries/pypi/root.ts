// GET /pypi/simple/: the projects the caller may see.
import { createHash } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { PypiCatalog } from "./catalog.js";
import { negotiate } from "./negotiate.js";
import { renderRoot } from "./render.js";

export function createRootHandler(catalog: PypiCatalog) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const format = negotiate(request.headers.accept);
    const body = renderRoot(await catalog.projects(request.principal), format);
    return sendIndex(request, reply, format.contentType, body);
  };
}

/** Index pages change as modules are pushed: clients revalidate with the ETag, a 304 has no body. */
export function sendIndex(request: FastifyRequest, reply: FastifyReply, contentType: string, body: string) {
  const etag = `"${createHash("sha1").update(contentType).update("\0").update(body).digest("base64url")}"`;
  reply.header("etag", etag).header("cache-control", "no-cache").header("vary", "Accept, Authorization");
  if (request.headers["if-none-match"] === etag) return reply.code(304).send();
  return reply.type(contentType).send(body);
}
