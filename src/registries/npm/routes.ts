// Routes of the npm registry under /npm/ (`@scope:registry=http://host/npm/`): read-only, generated on demand.
import type { FastifyRequest } from "fastify";
import { Code, RegistryError } from "../../core/errors.js";
import type { RegistryPlugin } from "../../http/registry-plugin.js";
import type { Catalog } from "./catalog.js";
import { createDistTagsHandler } from "./dist-tags.js";
import { renderError } from "./errors.js";
import { createPackumentHandler } from "./packument.js";
import { ping, whoami } from "./ping.js";
import type { PackageParams } from "./request.js";
import { createTarballHandler, type TarballParams } from "./tarball.js";

export interface NpmRoutesOptions {
  /** npm scope of generated packages, without "@" (the catalog's). */
  scope: string;
  /** Base of tarball links when clients reach the server by another URL than they send as Host. */
  publicUrl?: string | undefined;
}

export function npmRegistry(catalog: Catalog, opts: NpmRoutesOptions): RegistryPlugin {
  const packument = createPackumentHandler(catalog, opts.publicUrl);
  const tarball = createTarballHandler(catalog, opts.scope);
  const distTags = createDistTagsHandler(catalog);
  return {
    name: "npm",
    renderError,
    routes(app) {
      // Warming must not start plugin runs on a server that is shutting down.
      app.addHook("onClose", async () => catalog.close());
      app.get("/npm/-/ping", ping);
      app.get("/npm/-/whoami", whoami);
      app.get<{ Params: PackageParams }>("/npm/-/package/:name/dist-tags", distTags);
      app.get<{ Params: PackageParams }>("/npm/-/package/:scope/:name/dist-tags", distTags);
      // npm asks for `@scope%2fname`; the router decodes the `%2f` into the one parameter.
      app.get<{ Params: PackageParams }>("/npm/:name", packument);
      app.get<{ Params: PackageParams }>("/npm/:scope/:name", packument);
      app.get<{ Params: TarballParams }>("/npm/:scope/:name/-/:file", tarball);
      app.get<{ Params: TarballParams }>("/npm/:name/-/:file", tarball);
      // Everything else under /npm/ (publish, search, unknown paths) answers in npm's error format.
      app.all("/npm/*", async (request: FastifyRequest) => {
        const readOnly = request.method !== "GET" && request.method !== "HEAD";
        throw new RegistryError(
          readOnly ? Code.FailedPrecondition : Code.NotFound,
          readOnly
            ? `${request.method} is not supported: this npm registry is read-only, packages are generated from pushed modules`
            : `no npm endpoint at ${request.url}`,
        );
      });
    },
  };
}
