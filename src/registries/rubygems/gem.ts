// GET /gems/gems/{name}-{version}.gem: a gem (generated on first request, then the same bytes forever).
import type { FastifyReply } from "fastify";
import { Code, RegistryError } from "../../core/errors.js";
import { parseGemFileName } from "../../ecosystems/rubygems/names.js";
import { immutableFor } from "../../http/cache-control.js";
import { clientGone } from "../../http/client-gone.js";
import { keepHot } from "../../http/hot-responses.js";
import type { RubygemsCatalog } from "./catalog.js";
import { lastSegment, type SegmentRequest } from "./segment.js";

export function createGemHandler(catalog: RubygemsCatalog) {
  return async (request: SegmentRequest, reply: FastifyReply) => {
    keepHot(reply);
    const file = lastSegment(request, "gem");
    const named = parseGemFileName(file, ".gem");
    if (!named) throw new RegistryError(Code.NotFound, `no gem ${file}: gems are named {name}-{version}.gem`);
    const { record, open } = await catalog.artifact(
      request.principal,
      named.name,
      named.version,
      clientGone(reply),
    );
    const etag = `"${record.digest}"`;
    reply.header("etag", etag).header("cache-control", immutableFor(request.principal));
    if (request.headers["if-none-match"] === etag) return reply.code(304).send();
    return reply
      .type("application/octet-stream")
      .header("content-length", String(record.size))
      .send(await open());
  };
}
