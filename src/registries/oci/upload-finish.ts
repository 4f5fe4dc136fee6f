// PUT /v2/{owner}/{name}/blobs/uploads/{id}?digest=…: the last chunk (or none), digest verified, blob stored.
import type { FastifyReply, FastifyRequest } from "fastify";
import { Code } from "../../core/errors.js";
import type { ImageService } from "../../services/images.js";
import { ociError } from "./errors.js";
import { bodyOf, callerOf, type RepoParams, repoOf, repoPath } from "./request.js";

type Params = RepoParams & { id: string };

export function createUploadFinishHandler(images: ImageService) {
  return async (
    request: FastifyRequest<{ Params: Params; Querystring: { digest?: string } }>,
    reply: FastifyReply,
  ) => {
    const { digest } = request.query;
    if (!digest)
      throw ociError(Code.InvalidArgument, "DIGEST_INVALID", "finishing an upload needs ?digest=sha256:…");
    const repo = repoOf(images, request);
    const body = bodyOf(request);
    const blob = await images.finishUpload(callerOf(request), repo, request.params.id, digest, body);
    return reply
      .code(201)
      .header("location", `${repoPath(repo)}/blobs/${blob.digest}`)
      .header("docker-content-digest", blob.digest)
      .header("content-length", 0)
      .send();
  };
}
