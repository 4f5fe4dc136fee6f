// PUT /v2/{owner}/{name}/blobs/uploads/{id}?digest=…: the last chunk (or none), digest verified, blob stored. The
// last chunk's Content-Range is checked as PATCH checks it (416 out of order), and a refused chunk is never kept.
import type { FastifyReply, FastifyRequest } from "fastify";
import { Code } from "../../core/errors.js";
import type { ImageService } from "../../services/images.js";
import { ociError } from "./errors.js";
import {
  bodyOf,
  callerOf,
  chunkStartOf,
  type RepoParams,
  repoOf,
  repoPath,
  withUploadRange,
} from "./request.js";

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
    const start = chunkStartOf(request);
    let blob: Awaited<ReturnType<ImageService["finishUpload"]>>;
    try {
      blob = await images.finishUpload(
        callerOf(request),
        repo,
        request.params.id,
        digest,
        bodyOf(request),
        start,
      );
    } catch (err) {
      await withUploadRange(images, request, reply);
      throw err;
    }
    return reply
      .code(201)
      .header("location", `${repoPath(repo)}/blobs/${blob.digest}`)
      .header("docker-content-digest", blob.digest)
      .header("content-length", 0)
      .send();
  };
}
