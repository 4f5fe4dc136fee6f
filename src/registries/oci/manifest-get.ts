// HEAD and GET /v2/{owner}/{name}/manifests/{reference}: by tag (a plugin version) or by digest.
import type { FastifyReply, FastifyRequest } from "fastify";
import { Code } from "../../core/errors.js";
import type { ImageService } from "../../services/images.js";
import { ociError } from "./errors.js";
import { callerOf, type RepoParams, repoOf } from "./request.js";

type Params = RepoParams & { reference: string };

export function createManifestGetHandler(images: ImageService) {
  return async (request: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
    const { reference } = request.params;
    const manifest = await images.getManifest(callerOf(request), repoOf(images, request), reference);
    if (!manifest) {
      throw ociError(Code.NotFound, "MANIFEST_UNKNOWN", `manifest ${reference} is not in this repository`);
    }
    reply
      .header("docker-content-digest", manifest.digest)
      .header("content-length", manifest.bytes.length)
      .type(manifest.mediaType);
    return request.method === "HEAD" ? reply.send() : reply.send(Buffer.from(manifest.bytes));
  };
}
