// GET /gems/info/{name}: one gem's versions with dependencies and checksums.
import type { FastifyReply } from "fastify";
import type { RubygemsCatalog } from "./catalog.js";
import { renderInfo } from "./render.js";
import { lastSegment, type SegmentRequest } from "./segment.js";
import { sendIndex } from "./send-index.js";

/**
 * `gem install` asks for the info of every dependency, runtime libraries included (`google-protobuf`), and gives up
 * on the compact index at the first 404. A name that is not of our shape is someone else's gem: it answers an
 * empty info, so RubyGems takes it from wherever else it is (an installed gem, another source). A name of our shape
 * that does not exist, or that the caller may not see, is a 404 like every hidden thing.
 */
export function createInfoHandler(catalog: RubygemsCatalog) {
  return async (request: SegmentRequest, reply: FastifyReply) => {
    const listing = await catalog.gem(request.principal, lastSegment(request, "gem info"));
    return sendIndex(request, reply, listing ? renderInfo(listing) : "---\n");
  };
}
