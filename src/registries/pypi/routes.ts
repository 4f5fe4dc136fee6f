// Routes of the PyPI simple index under /pypi/ (`pip install --index-url http://host/pypi/simple/ NAME`):
// read-only, wheels generated on demand.
import type { FastifyRequest } from "fastify";
import { Code, RegistryError } from "../../core/errors.js";
import type { RegistryPlugin } from "../../http/registry-plugin.js";
import type { PypiCatalog } from "./catalog.js";
import { renderError } from "./errors.js";
import { createFileHandler, type FileParams } from "./file.js";
import { createProjectHandler, createProjectRedirect, type ProjectParams } from "./project.js";
import { createRootHandler } from "./root.js";

export function pypiRegistry(catalog: PypiCatalog): RegistryPlugin {
  const root = createRootHandler(catalog);
  const project = createProjectHandler(catalog);
  const file = createFileHandler(catalog);
  return {
    name: "pypi",
    renderError,
    routes(app) {
      // Warming must not start plugin runs on a server that is shutting down.
      app.addHook("onClose", async () => catalog.close());
      app.get("/pypi/simple/", root);
      app.get("/pypi/simple", async (_request, reply) => reply.redirect("/pypi/simple/", 301));
      app.get<{ Params: ProjectParams }>("/pypi/simple/:project/", project);
      app.get<{ Params: ProjectParams }>("/pypi/simple/:project", createProjectRedirect());
      app.get<{ Params: FileParams }>("/pypi/files/:project/:file", file);
      // Everything else under /pypi/ (uploads, the JSON API of pypi.org) answers in this registry's format.
      app.route({
        method: ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"],
        url: "/pypi/*",
        // An upload (twine's multipart POST) is refused before its body is read or its content type looked at.
        onRequest: async (request: FastifyRequest) => {
          if (request.method === "GET" || request.method === "HEAD") return;
          throw new RegistryError(
            Code.FailedPrecondition,
            `${request.method} is not supported: this index is read-only, packages are generated from pushed modules (protodepot push)`,
          );
        },
        handler: async (request: FastifyRequest) => {
          throw new RegistryError(
            Code.NotFound,
            `no PyPI endpoint at ${request.url}: the simple index is at /pypi/simple/`,
          );
        },
      });
    },
  };
}
