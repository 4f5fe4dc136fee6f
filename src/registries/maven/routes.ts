// Routes of the Maven repository under /maven/ (a settings.xml mirror or repository URL): read-only, jars compiled
// on demand.
import type { FastifyReply, FastifyRequest } from "fastify";
import { Code, isRegistryError, RegistryError } from "../../core/errors.js";
import type { RegistryPlugin } from "../../http/registry-plugin.js";
import type { Catalog } from "./catalog.js";
import { renderError } from "./errors.js";
import { createJarHandler, createSourcesHandler } from "./jar.js";
import { createMetadataHandler } from "./metadata.js";
import { createPomHandler } from "./pom.js";
import { parseMavenPath } from "./request.js";

export interface MavenRoutesOptions {
  /** groupId of every generated artifact (config maven.groupId; the catalog's). */
  groupId: string;
}

export function mavenRegistry(catalog: Catalog, opts: MavenRoutesOptions): RegistryPlugin {
  const metadata = createMetadataHandler(catalog, opts.groupId);
  const pom = createPomHandler(catalog);
  const jar = createJarHandler(catalog);
  const sources = createSourcesHandler(catalog);
  return {
    name: "maven",
    renderError,
    routes(app) {
      app.addHook("onClose", async () => catalog.close());
      // Group paths have any number of segments: one wildcard, parsed once (as the Go proxy does).
      app.get<{ Params: { "*": string } }>(
        "/maven/*",
        async (request: FastifyRequest<{ Params: { "*": string } }>, reply: FastifyReply) => {
          const target = parseMavenPath(request.params["*"], opts.groupId);
          try {
            switch (target.endpoint) {
              case "metadata":
                return await metadata(request, reply, target);
              case "pom":
                return await pom(request, reply, target);
              case "jar":
                return await jar(request, reply, target);
              case "sources":
                return await sources(request, reply, target);
            }
          } catch (err) {
            // Maven sends credentials only when challenged: to an anonymous caller an artifact of ours that is
            // missing may be a private one, so it gets the challenge (the same answer either way, so nothing leaks).
            if (!request.principal.user && isRegistryError(err, Code.NotFound)) {
              throw new RegistryError(
                Code.Unauthenticated,
                `${err.message} (or it is private: send a token as the password of a settings.xml <server> whose id is this repository's)`,
                err.fields,
              );
            }
            throw err;
          }
        },
      );
      // `mvn deploy` PUTs: say why it cannot work instead of a bare 404.
      app.route({
        method: ["PUT", "POST", "DELETE", "PATCH"],
        url: "/maven/*",
        // Refused before the body is read (or its content type is looked at).
        onRequest: async (request: FastifyRequest) => {
          throw new RegistryError(
            Code.FailedPrecondition,
            `${request.method} is not supported: this Maven repository is read-only, artifacts are generated from pushed modules`,
          );
        },
        handler: async () => undefined,
      });
    },
  };
}
