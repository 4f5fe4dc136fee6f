// PUT /v2/{owner}/{name}/manifests/{reference}: an image manifest or index; a tag becomes a plugin version.
import type { Readable } from "node:stream";
import type { FastifyReply, FastifyRequest } from "fastify";
import { Code } from "../../core/errors.js";
import type { ImageService } from "../../services/images.js";
import { ociError } from "./errors.js";
import { bodyOf, callerOf, type RepoParams, repoOf, repoPath } from "./request.js";

type Params = RepoParams & { reference: string };

/** Past the cap the rest of a body is read and dropped, up to this much, so the client sees the 413 answer. */
const drainBytes = 16 << 20;

/** Reads at most `max` bytes; more is a SIZE_INVALID before anything is parsed. */
async function readCapped(body: Readable, max: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size <= max) chunks.push(chunk as Buffer);
    else if (size > max + drainBytes) break;
  }
  if (size > max) {
    body.destroy();
    throw ociError(
      Code.ResourceExhausted,
      "SIZE_INVALID",
      `manifest is larger than ${max} bytes (oci.maxManifestBytes)`,
    );
  }
  return new Uint8Array(Buffer.concat(chunks));
}

export function createManifestPutHandler(images: ImageService, maxManifestBytes: number) {
  return async (request: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
    const repo = repoOf(images, request);
    const principal = callerOf(request);
    // Authorize before reading the body.
    await images.requireWrite(principal, repo);
    const bytes = await readCapped(bodyOf(request), maxManifestBytes);
    const { digest } = await images.putManifest(
      principal,
      repo,
      request.params.reference,
      bytes,
      request.headers["content-type"],
    );
    return reply
      .code(201)
      .header("location", `${repoPath(repo)}/manifests/${digest}`)
      .header("docker-content-digest", digest)
      .header("content-length", 0)
      .send();
  };
}
