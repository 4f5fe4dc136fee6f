// GET /cargo/[token/]index/{xx}/{yy}/{crate} (and the 1/, 2/, 3/{c}/ shapes): a crate's index file, one JSON line
// per listed version with its checksum. Listing generates the default label's head first (services/catalog.ts).
import { createHash } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { Code, RegistryError } from "../../core/errors.js";
import { parseCargoIndexPath } from "../../ecosystems/cargo/names.js";
import type { CargoCatalog } from "./catalog.js";
import { renderIndexFile } from "./render.js";

/** Our names are four names of at most 64 characters and three `_`; the longest index path adds 6. */
const maxPathLength = 4 * 64 + 3 + 6;

export function createIndexFileHandler(catalog: CargoCatalog) {
  return async (request: FastifyRequest<{ Params: { "*": string } }>, reply: FastifyReply) => {
    const path = request.params["*"];
    const crate = path.length <= maxPathLength ? parseCargoIndexPath(path) : undefined;
    if (crate === undefined) {
      throw new RegistryError(
        Code.NotFound,
        `no index file at ${path.slice(0, 300)}: paths are {ab}/{cd}/{crate}`,
      );
    }
    const body = renderIndexFile(crate, await catalog.index(request.principal, crate));
    // Listings grow as versions are generated: cargo revalidates with the ETag and gets a 304 while nothing moved.
    const etag = `"${createHash("sha256").update(body).digest("base64url")}"`;
    reply.header("etag", etag).header("cache-control", "no-cache").header("vary", "Authorization");
    if (request.headers["if-none-match"] === etag) return reply.code(304).send();
    return reply.type("text/plain; charset=utf-8").send(body);
  };
}
