// DELETE /v2/{owner}/{name}/blobs/uploads/{id}: abandons an upload and frees what it received.
import type { FastifyReply, FastifyRequest } from "fastify";
import type { ImageService } from "../../services/images.js";
import { callerOf, type RepoParams, repoOf } from "./request.js";

export function createUploadCancelHandler(images: ImageService) {
  return async (request: FastifyRequest<{ Params: RepoParams & { id: string } }>, reply: FastifyReply) => {
    await images.cancelUpload(callerOf(request), repoOf(images, request), request.params.id);
    return reply.code(204).send();
  };
}
