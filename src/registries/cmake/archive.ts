// GET /cmake/{tOwner}/{tName}/{mOwner}/{mName}/{version}.tar.gz and ….tar.gz.sha256: an archive for FetchContent
// (the same bytes forever) and the hex SHA-256 its URL_HASH pins.
import type { FastifyReply, FastifyRequest } from "fastify";
import { Code, RegistryError } from "../../core/errors.js";
import { immutableFor } from "../../http/cache-control.js";
import { clientGone } from "../../http/client-gone.js";
import { keepHot } from "../../http/hot-responses.js";
import type { CmakeProtocol } from "./protocol.js";

export interface ArchiveParams {
  templateOwner: string;
  templateName: string;
  moduleOwner: string;
  moduleName: string;
  file: string;
}

export function createArchiveHandler(protocol: CmakeProtocol) {
  return async (request: FastifyRequest<{ Params: ArchiveParams }>, reply: FastifyReply) => {
    keepHot(reply);
    const { templateOwner, templateName, moduleOwner, moduleName, file } = request.params;
    const hash = file.endsWith(".tar.gz.sha256");
    const version = hash
      ? file.slice(0, -".tar.gz.sha256".length)
      : file.endsWith(".tar.gz")
        ? file.slice(0, -7)
        : undefined;
    if (version === undefined) {
      throw new RegistryError(
        Code.NotFound,
        `no file ${file.slice(0, 200)}: archives are {version}.tar.gz (and .tar.gz.sha256)`,
      );
    }
    const pkg = {
      template: { owner: templateOwner, name: templateName },
      module: { owner: moduleOwner, name: moduleName },
    };
    const archive = await protocol.archive(request.principal, pkg, version, clientGone(reply));
    const etag = `"${archive.record.digest}${hash ? ".sha256" : ""}"`;
    // A version names one template version and one commit, both immutable: so is the archive.
    reply.header("etag", etag).header("cache-control", immutableFor(request.principal));
    if (request.headers["if-none-match"] === etag) return reply.code(304).send();
    if (hash) return reply.type("text/plain; charset=utf-8").send(`${archive.sha256}\n`);
    return reply
      .type("application/gzip")
      .header("content-length", String(archive.record.size))
      .send(await archive.open());
  };
}
