// GET /cargo/[token/]crates/{crate}/{version}/download: a .crate, generated on its first request, then the same
// bytes forever (cargo checks them against the index's cksum and Cargo.lock's checksum).
import type { FastifyReply, FastifyRequest } from "fastify";
import { immutableFor } from "../../http/cache-control.js";
import { clientGone } from "../../http/client-gone.js";
import { keepHot } from "../../http/hot-responses.js";
import type { CargoCatalog } from "./catalog.js";

export interface DownloadParams {
  crate: string;
  version: string;
}

export function createDownloadHandler(catalog: CargoCatalog) {
  return async (request: FastifyRequest<{ Params: DownloadParams }>, reply: FastifyReply) => {
    keepHot(reply);
    const { crate, version } = request.params;
    const { record, open } = await catalog.crate(request.principal, crate, version, clientGone(reply));
    const etag = `"${record.digest}"`;
    // A version names one template version and one commit, both immutable: so is the crate.
    reply.header("etag", etag).header("cache-control", immutableFor(request.principal));
    if (request.headers["if-none-match"] === etag) return reply.code(304).send();
    return reply
      .type("application/gzip")
      .header("content-length", String(record.size))
      .send(await open());
  };
}
