// How every compact index file is sent: revalidated by clients (it changes as modules are pushed), per caller.
import type { FastifyReply, FastifyRequest } from "fastify";
import { indexHeaders } from "./render.js";

export function sendIndex(request: FastifyRequest, reply: FastifyReply, body: string): FastifyReply {
  const { etag, reprDigest } = indexHeaders(body);
  reply
    .header("etag", etag)
    .header("repr-digest", reprDigest)
    .header("cache-control", "no-cache")
    .header("vary", "Authorization");
  // Bundler asks for the tail of /versions with Range; the whole file is a valid answer (200) it accepts.
  if (request.headers["if-none-match"] === etag) return reply.code(304).send();
  return reply.type("text/plain; charset=utf-8").send(body);
}
