// Routes of the RubyGems source under /gems/ (`gem install --source http://host/gems/`, Bundler's
// `source "http://host/gems/"`): the compact index, quick specs and .gem downloads; read-only, gems generated on
// demand.
import type { FastifyRequest } from "fastify";
import { Code, RegistryError } from "../../core/errors.js";
import type { RegistryPlugin } from "../../http/registry-plugin.js";
import type { RubygemsCatalog } from "./catalog.js";
import { rubygemsAuthorization } from "./credentials.js";
import { renderError } from "./errors.js";
import { createGemHandler } from "./gem.js";
import { createInfoHandler } from "./info.js";
import { createNamesHandler } from "./names.js";
import { createQuickSpecHandler } from "./quick-spec.js";
import { createRootHandler } from "./root.js";
import type { Segment } from "./segment.js";
import { createVersionsHandler } from "./versions.js";

export function rubygemsRegistry(catalog: RubygemsCatalog): RegistryPlugin {
  return {
    name: "rubygems",
    renderError,
    authorization: rubygemsAuthorization,
    routes(app) {
      // Warming must not start plugin runs on a server that is shutting down.
      app.addHook("onClose", async () => catalog.close());
      app.get("/gems/", createRootHandler());
      app.get("/gems", async (_request, reply) => reply.redirect("/gems/", 301));
      app.get("/gems/versions", createVersionsHandler(catalog));
      app.get("/gems/names", createNamesHandler(catalog));
      app.get<Segment>("/gems/info/*", createInfoHandler(catalog));
      app.get<Segment>("/gems/quick/Marshal.4.8/*", createQuickSpecHandler(catalog));
      app.get<Segment>("/gems/gems/*", createGemHandler(catalog));
      // Everything else under /gems/ (`gem push`, the legacy index, the JSON API) answers in this source's format.
      app.route({
        method: ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"],
        url: "/gems/*",
        // A push is refused before its body is read or its content type looked at.
        onRequest: async (request: FastifyRequest) => {
          if (request.method === "GET" || request.method === "HEAD") return;
          throw new RegistryError(
            Code.FailedPrecondition,
            `${request.method} is not supported: this source is read-only, gems are generated from pushed modules (protodepot push)`,
          );
        },
        handler: async (request: FastifyRequest) => {
          throw new RegistryError(
            Code.NotFound,
            `no RubyGems endpoint at ${request.url.slice(0, 300)}: this source serves the compact index (versions, info/{name}), quick/Marshal.4.8/ and gems/`,
          );
        },
      });
    },
  };
}
