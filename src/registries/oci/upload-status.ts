// GET /v2/{owner}/{name}/blobs/uploads/{id}: how much of an upload has arrived.
import type { FastifyReply, FastifyRequest } from "fastify";
import type { ImageService } from "../../services/images.js";
import { callerOf, type RepoParams, repoOf, repoPath, uploadRange } from "./request.js";

export function createUploadStatusHandler(images: ImageService) {
  return async (request: FastifyRequest<{ Params: RepoParams & { id: string } }>, reply: FastifyReply) => {
    const repo = repoOf(images, request);
    const state = await images.uploadStatus(callerOf(request), repo, request.params.id);
    return reply
      .code(204)
      .header("location", `${repoPath(repo)}/blobs/uploads/${state.id}`)
      .header("docker-upload-uuid", state.id)
      .header("range", uploadRange(state.offset))
      .send();
  };
}
