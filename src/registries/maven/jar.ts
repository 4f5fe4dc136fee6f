// GET /maven/{group}/{artifactId}/{version}/{artifactId}-{version}.jar and …-sources.jar (+ .sha1, .md5): the
// compiled jar and the generated sources, each generated on first request, then streamed from the blob store.

import type { FastifyReply, FastifyRequest } from "fastify";
import { Code, RegistryError } from "../../core/errors.js";
import { immutableFor } from "../../http/cache-control.js";
import { clientGone } from "../../http/client-gone.js";
import { keepHot } from "../../http/hot-responses.js";
import { extrasOf } from "../../services/artifact-extras.js";
import type { CatalogArtifact } from "../../services/catalog.js";
import type { Catalog } from "./catalog.js";
import { type MavenHandler, sendChecksum } from "./handler.js";
import type { MavenTarget } from "./request.js";

export function createJarHandler(catalog: Catalog): MavenHandler<"jar"> {
  return jarHandler("maven", (request, target, signal) =>
    catalog.artifact(request.principal, target.parts, target.version, signal),
  );
}

export function createSourcesHandler(catalog: Catalog): MavenHandler<"sources"> {
  return jarHandler("maven-sources", (request, target, signal) =>
    catalog.sources(request.principal, target.parts, target.version, signal),
  );
}

type JarTarget = Extract<MavenTarget, { endpoint: "jar" | "sources" }>;

function jarHandler(
  flavour: "maven" | "maven-sources",
  load: (request: FastifyRequest, target: JarTarget, signal: AbortSignal) => Promise<CatalogArtifact>,
): (request: FastifyRequest, reply: FastifyReply, target: JarTarget) => Promise<FastifyReply> {
  return async (request, reply, target) => {
    keepHot(reply);
    const { record, open } = await load(request, target, clientGone(reply));
    const extras = extrasOf(record, flavour);
    if (!extras) {
      throw new RegistryError(Code.Internal, `artifact record of ${target.artifactId} has no checksums`);
    }
    const { sha1, md5 } = extras;
    // Private to a caller with a token: a shared cache must not hand a private jar to the next caller.
    reply.header("cache-control", immutableFor(request.principal));
    if (target.checksum) return sendChecksum(reply, target.checksum, { sha1, md5 });
    const etag = `"${record.digest}"`;
    reply.header("etag", etag);
    if (request.headers["if-none-match"] === etag) return reply.code(304).send();
    return reply
      .type("application/java-archive")
      .header("content-length", String(record.size))
      .send(await open());
  };
}
