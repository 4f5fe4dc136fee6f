// PATCH /v2/{owner}/{name}/blobs/uploads/{id}: one chunk, streamed (chunked, no length) or with Content-Range.
import type { FastifyReply, FastifyRequest } from "fastify";
import type { ImageService } from "../../services/images.js";
import {
  bodyOf,
  callerOf,
  chunkStartOf,
  type RepoParams,
  repoOf,
  repoPath,
  uploadRange,
  withUploadRange,
} from "./request.js";

type Params = RepoParams & { id: string };

export function createUploadChunkHandler(images: ImageService) {
  return async (request: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
    const principal = callerOf(request);
    const repo = repoOf(images, request);
    const { id } = request.params;
    const start = chunkStartOf(request);
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
      await withUploadRange(images, request, reply);
      throw err;
    }
  };
}
