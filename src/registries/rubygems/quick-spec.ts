// GET /gems/quick/Marshal.4.8/{name}-{version}.gemspec.rz: the deflated Marshal spec `gem install` fetches before
// each .gem (even with the compact index) and caches forever.
import type { FastifyReply } from "fastify";
import { Code, RegistryError } from "../../core/errors.js";
import { parseGemFileName } from "../../ecosystems/rubygems/names.js";
import { immutableFor } from "../../http/cache-control.js";
import { clientGone } from "../../http/client-gone.js";
import { keepHot } from "../../http/hot-responses.js";
import { extrasOf } from "../../services/artifact-extras.js";
import type { RubygemsCatalog } from "./catalog.js";
import { lastSegment, type SegmentRequest } from "./segment.js";

export function createQuickSpecHandler(catalog: RubygemsCatalog) {
  return async (request: SegmentRequest, reply: FastifyReply) => {
    keepHot(reply);
    const file = lastSegment(request, "quick spec");
    const named = parseGemFileName(file, ".gemspec.rz");
    if (!named) {
      throw new RegistryError(
        Code.NotFound,
        `no quick spec ${file}: they are named {name}-{version}.gemspec.rz`,
      );
    }
    const { record } = await catalog.artifact(
      request.principal,
      named.name,
      named.version,
      clientGone(reply),
    );
    const quickSpec = extrasOf(record, "rubygems")?.quickSpec;
    if (quickSpec === undefined)
      throw new RegistryError(Code.Internal, `gem ${file} has no stored quick spec`);
    const etag = `"${record.digest}.gemspec.rz"`;
    // A version names one template version and one commit, both immutable: so is its spec.
    reply.header("etag", etag).header("cache-control", immutableFor(request.principal));
    if (request.headers["if-none-match"] === etag) return reply.code(304).send();
    return reply.type("application/octet-stream").send(Buffer.from(quickSpec, "base64"));
  };
}
