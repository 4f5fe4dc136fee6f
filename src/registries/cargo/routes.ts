// Routes of the Cargo sparse registry under /cargo/ (docs/cargo.md): `sparse+http://host/cargo/index/` for
// anonymous use, `sparse+http://host/cargo/token/index/` for private crates (cargo sends its token there). Read-only;
// crates are generated on demand.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { Code, RegistryError } from "../../core/errors.js";
import type { RegistryPlugin } from "../../http/registry-plugin.js";
import type { CargoCatalog } from "./catalog.js";
import { createConfigHandler } from "./config.js";
import { createDownloadHandler, type DownloadParams } from "./download.js";
import { renderError } from "./errors.js";
import { createIndexFileHandler } from "./index-file.js";
import { type CargoRoot, cargoAuthorization } from "./request.js";

export interface CargoRegistryOptions {
  publicUrl?: string | undefined;
}

export function cargoRegistry(catalog: CargoCatalog, opts: CargoRegistryOptions = {}): RegistryPlugin {
  const indexFile = createIndexFileHandler(catalog);
  const download = createDownloadHandler(catalog);
  const register = (app: FastifyInstance, root: CargoRoot, prefix: string) => {
    app.get(`${prefix}/index/config.json`, createConfigHandler(root, opts.publicUrl));
    app.get<{ Params: { "*": string } }>(`${prefix}/index/*`, indexFile);
    app.get<{ Params: DownloadParams }>(`${prefix}/crates/:crate/:version/download`, download);
  };
  return {
    name: "cargo",
    renderError,
    authorization: (header) => (header === undefined ? undefined : cargoAuthorization(header)),
    routes(app) {
      // Warming must not start plugin runs on a server that is shutting down.
      app.addHook("onClose", async () => catalog.close());
      // Under the token root every request needs a token, config.json first: that 401 is what makes cargo send it.
      app.addHook("onRequest", async (request: FastifyRequest) => {
        // By the route matched, not the raw URL, so no spelling of the path (%74oken, //) slips past.
        if (!request.routeOptions.url?.startsWith("/cargo/token/") || request.principal.user) return;
        throw new RegistryError(
          Code.Unauthenticated,
          'this index needs a token: set CARGO_REGISTRIES_{NAME}_TOKEN or run `cargo login --registry {name}`, with credential-provider = "cargo:token"',
        );
      });
      register(app, "public", "/cargo");
      register(app, "token", "/cargo/token");
      // Everything else under /cargo/ (publish, yank, owners, search) answers in this registry's format.
      app.route({
        method: ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"],
        url: "/cargo/*",
        // `cargo publish` is refused before its body is read.
        onRequest: async (request: FastifyRequest) => {
          if (request.method === "GET" || request.method === "HEAD") return;
          throw new RegistryError(
            Code.FailedPrecondition,
            `${request.method} is not supported: this registry is read-only, crates are generated from pushed modules (protodepot push)`,
          );
        },
        handler: async (request: FastifyRequest) => {
          throw new RegistryError(
            Code.NotFound,
            `no Cargo endpoint at ${request.url.slice(0, 300)}: the index is at /cargo/index/ (or /cargo/token/index/)`,
          );
        },
      });
    },
  };
}
