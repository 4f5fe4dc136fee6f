// GET /maven/{group}/{artifactId}/{version}/{artifactId}-{version}.pom (+ .sha1, .md5): kept beside the jar, so the
// first request of a version builds its jar (Maven asks for the pom first, then the jar).
import { Code, RegistryError } from "../../core/errors.js";
import { immutableFor } from "../../http/cache-control.js";
import { clientGone } from "../../http/client-gone.js";
import { keepHot } from "../../http/hot-responses.js";
import { extrasOf } from "../../services/artifact-extras.js";
import type { Catalog } from "./catalog.js";
import { type MavenHandler, sendChecksum } from "./handler.js";

export function createPomHandler(catalog: Catalog): MavenHandler<"pom"> {
  return async (request, reply, target) => {
    keepHot(reply);
    const { record } = await catalog.artifact(
      request.principal,
      target.parts,
      target.version,
      clientGone(reply),
    );
    const { pom, pomSha1, pomMd5 } = extrasOf(record, "maven") ?? {};
    if (pom === undefined || pomSha1 === undefined || pomMd5 === undefined) {
      throw new RegistryError(Code.Internal, `artifact record of ${target.artifactId} has no pom`);
    }
    // Private to a caller with a token: a shared cache must not hand a private jar to the next caller.
    reply.header("cache-control", immutableFor(request.principal));
    if (target.checksum) return sendChecksum(reply, target.checksum, { sha1: pomSha1, md5: pomMd5 });
    const etag = `"${pomSha1}"`;
    reply.header("etag", etag);
    if (request.headers["if-none-match"] === etag) return reply.code(304).send();
    return reply.type("text/xml; charset=utf-8").send(pom);
  };
}
