// PATCH /v2/{owner}/{name}/blobs/uploads/{id}: one chunk, streamed (chunked, no length) or with Content-Range.
import type { FastifyReply, FastifyRequest } from "fastify";
import { Code } from "../../core/errors.js";
import type { ImageService } from "../../services/images.js";
import { ociError } from "./errors.js";
import { bodyOf, callerOf, type RepoParams, repoOf, repoPath, uploadRange } from "./request.js";

type Params = RepoParams & { id: string };

export function createUploadChunkHandler(images: ImageService) {
  return async (request: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
    const principal = callerOf(request);
    const repo = repoOf(images, request);
    const { id } = request.params;
    const range = request.headers["content-range"];
    let start: number | undefined;
    if (range !== undefined) {
      const m = /^(?:bytes[ =])?(\d+)-(\d+)$/.exec(String(range).trim());
      if (!m) {
        throw ociError(
          Code.InvalidArgument,
          "BLOB_UPLOAD_INVALID",
          `invalid Content-Range "${range}": expected START-END`,
        );
      }
      start = Number(m[1]);
    }
    try {
      const state = await images.appendUpload(principal, repo, id, bodyOf(request), start);
      return reply
        .code(202)
        .header("location", `${repoPath(repo)}/blobs/uploads/${id}`)
        .header("docker-upload-uuid", id)
        .header("range", uploadRange(state.offset))
        .header("content-length", 0)
        .send();
    } catch (err) {
      // An out-of-order chunk: 416 with the Range the client must continue from.
      const status = await images.uploadStatus(principal, repo, id).catch(() => undefined);
      if (status) reply.header("range", uploadRange(status.offset)).header("docker-upload-uuid", id);
      throw err;
    }
  };
}
