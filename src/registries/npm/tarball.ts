// GET /npm/@scope/name/-/name-{version}.tgz: the tarball, generated on first request, then streamed from blobs.
import type { FastifyReply, FastifyRequest } from "fastify";
import { Code, RegistryError } from "../../core/errors.js";
import { npmBareName } from "../../ecosystems/npm/names.js";
import { immutableFor } from "../../http/cache-control.js";
import { clientGone } from "../../http/client-gone.js";
import { keepHot } from "../../http/hot-responses.js";
import { type Catalog, packageParts } from "./catalog.js";
import { type PackageParams, packageNameOf } from "./request.js";

export interface TarballParams extends PackageParams {
  file: string;
}

/** `{bare name}-{version}.tgz` → the version; anything else names no tarball of this package. */
export function tarballVersion(name: string, bare: string, file: string): string {
  const prefix = `${bare}-`;
  if (!file.startsWith(prefix) || !file.endsWith(".tgz") || file.length <= prefix.length + 4) {
    throw new RegistryError(
      Code.NotFound,
      `package ${name} has no tarball ${file}: tarballs are named ${prefix}{version}.tgz`,
    );
  }
  return file.slice(prefix.length, -".tgz".length);
}

export function createTarballHandler(catalog: Catalog, scope: string) {
  return async (request: FastifyRequest<{ Params: TarballParams }>, reply: FastifyReply) => {
    keepHot(reply);
    const principal = request.principal;
    const name = packageNameOf(request.params);
    const version = tarballVersion(name, npmBareName(packageParts(scope, name)), request.params.file);
    const { record, open } = await catalog.tarball(principal, name, version, clientGone(reply));
    const etag = `"${record.digest}"`;
    // A version names one template version and one commit, and both are immutable: so are these bytes.
    reply.header("etag", etag).header("cache-control", immutableFor(principal));
    if (request.headers["if-none-match"] === etag) return reply.code(304).send();
    return reply
      .type("application/octet-stream")
      .header("content-length", String(record.size))
      .send(await open());
  };
}
