// The shape every Maven endpoint handler shares, and how a file or its checksum is sent.
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Checksum, MavenTarget } from "./request.js";

export type MavenHandler<E extends MavenTarget["endpoint"]> = (
  request: FastifyRequest,
  reply: FastifyReply,
  target: Extract<MavenTarget, { endpoint: E }>,
) => Promise<FastifyReply>;

/** `.sha1` / `.md5`: the lowercase hex digest alone, as Maven Central serves them. */
export function sendChecksum(
  reply: FastifyReply,
  checksum: Exclude<Checksum, undefined>,
  sums: Record<Exclude<Checksum, undefined>, string>,
) {
  return reply.type("text/plain; charset=utf-8").send(sums[checksum]);
}
