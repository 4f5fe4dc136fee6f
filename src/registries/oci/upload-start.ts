// POST /v2/{owner}/{name}/blobs/uploads/: a new upload, a monolithic upload (?digest=), or a mount (?mount=&from=).
import type { FastifyReply, FastifyRequest } from "fastify";
import type { ImageService } from "../../services/images.js";
import { bodyOf, callerOf, type RepoParams, repoOf, repoPath, uploadRange } from "./request.js";

type Query = { digest?: string; mount?: string; from?: string };

export function createUploadStartHandler(images: ImageService) {
  return async (request: FastifyRequest<{ Params: RepoParams; Querystring: Query }>, reply: FastifyReply) => {
    const principal = callerOf(request);
    const repo = repoOf(images, request);
    const { digest, mount, from } = request.query;
    if (mount && from && (await images.mountBlob(principal, repo, mount, from))) {
      return reply
        .code(201)
        .header("location", `${repoPath(repo)}/blobs/${mount}`)
        .header("docker-content-digest", mount)
        .header("content-length", 0)
        .send();
    }
    const upload = await images.startUpload(principal, repo);
    if (digest) {
      let blob: Awaited<ReturnType<ImageService["finishUpload"]>>;
      try {
        blob = await images.finishUpload(principal, repo, upload.id, digest, bodyOf(request));
      } catch (err) {
        // A refused monolithic upload leaves nothing open: it would count against the user's bounds until swept.
        await images.cancelUpload(principal, repo, upload.id).catch(() => undefined);
        throw err;
      }
      return reply
        .code(201)
        .header("location", `${repoPath(repo)}/blobs/${blob.digest}`)
        .header("docker-content-digest", blob.digest)
        .header("content-length", 0)
        .send();
    }
    bodyOf(request).resume();
    return reply
      .code(202)
      .header("location", `${repoPath(repo)}/blobs/uploads/${upload.id}`)
      .header("docker-upload-uuid", upload.id)
      .header("range", uploadRange(upload.offset))
      .header("content-length", 0)
      .send();
  };
}
