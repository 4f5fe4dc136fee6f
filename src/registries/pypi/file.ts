// GET /pypi/files/{project}/{wheel} and …/{wheel}.metadata: a wheel (generated on first request, then the same
// bytes forever) and its METADATA, which installers read to resolve dependencies without the wheel (PEP 658/714).
import type { FastifyReply, FastifyRequest } from "fastify";
import { Code, RegistryError } from "../../core/errors.js";
import { normalizePypiName, wheelDistribution, wheelFileVersion } from "../../ecosystems/pypi/names.js";
import { immutableFor } from "../../http/cache-control.js";
import { clientGone } from "../../http/client-gone.js";
import { keepHot } from "../../http/hot-responses.js";
import { extrasOf } from "../../services/artifact-extras.js";
import type { PypiCatalog } from "./catalog.js";

export interface FileParams {
  project: string;
  file: string;
}

export function createFileHandler(catalog: PypiCatalog) {
  return async (request: FastifyRequest<{ Params: FileParams }>, reply: FastifyReply) => {
    keepHot(reply);
    const { project, file } = request.params;
    const metadata = file.endsWith(".metadata");
    const wheel = metadata ? file.slice(0, -".metadata".length) : file;
    const version = normalizePypiName(project) === project ? wheelFileVersion(project, wheel) : undefined;
    if (version === undefined) {
      throw new RegistryError(
        Code.NotFound,
        `project ${project} has no file ${file}: its wheels are named ${wheelDistribution(normalizePypiName(project))}-{version}-py3-none-any.whl`,
      );
    }
    const { record, open } = await catalog.wheel(request.principal, project, version, clientGone(reply));
    const etag = `"${record.digest}${metadata ? ".metadata" : ""}"`;
    // A version names one template version and one commit, both immutable: so are the wheel and its METADATA.
    reply.header("etag", etag).header("cache-control", immutableFor(request.principal));
    if (request.headers["if-none-match"] === etag) return reply.code(304).send();
    if (metadata) {
      const text = extrasOf(record, "pypi")?.metadata;
      if (text === undefined) throw new RegistryError(Code.Internal, `wheel ${wheel} has no stored METADATA`);
      return reply.type("text/plain; charset=utf-8").send(text);
    }
    return reply
      .type("application/octet-stream")
      .header("content-length", String(record.size))
      .send(await open());
  };
}
