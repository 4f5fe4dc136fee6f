// What every /v2/ handler reads from a request: the repository, the caller, the raw body stream.
import type { Readable } from "node:stream";
import type { FastifyReply, FastifyRequest } from "fastify";
import { Code } from "../../core/errors.js";
import type { FullName } from "../../core/names.js";
import type { Principal } from "../../services/auth.js";
import type { ImageService } from "../../services/images.js";
import { ociError } from "./errors.js";

export interface RepoParams {
  owner: string;
  name: string;
}

/** The authenticated caller (the registry's onRequest hooks refuse anonymous ones). */
export function callerOf(request: FastifyRequest): Principal {
  return request.principal;
}

export function repoOf(images: ImageService, request: FastifyRequest<{ Params: RepoParams }>): FullName {
  return images.repository(request.params.owner, request.params.name);
}

export const repoPath = (repo: FullName) => `/v2/${repo.owner}/${repo.name}`;

/** `Range` of an upload holding `offset` bytes: 0-0 while empty, as the reference registry answers. */
export const uploadRange = (offset: number) => `0-${Math.max(0, offset - 1)}`;

/**
 * The raw request body. The registry's catch-all content-type parser hands the stream through untouched; a
 * request without Content-Type is not parsed at all, and its body is the raw request itself.
 */
export function bodyOf(request: FastifyRequest): Readable {
  return (request.body as Readable | undefined) ?? request.raw;
}

/**
 * The start of a chunk's `Content-Range: START-END` (PATCH and the final PUT alike), or undefined without one.
 * The service refuses a start that is not the upload's offset (416), before a byte of the chunk is kept.
 */
export function chunkStartOf(request: FastifyRequest): number | undefined {
  const range = request.headers["content-range"];
  if (range === undefined) return undefined;
  const m = /^(?:bytes[ =])?(\d+)-(\d+)$/.exec(String(range).trim());
  if (!m) {
    throw ociError(
      Code.InvalidArgument,
      "BLOB_UPLOAD_INVALID",
      `invalid Content-Range "${range}": expected START-END`,
    );
  }
  return Number(m[1]);
}

/** After a refused chunk: the Range the client must continue from, when the upload still exists. */
export async function withUploadRange(
  images: ImageService,
  request: FastifyRequest<{ Params: RepoParams & { id: string } }>,
  reply: FastifyReply,
): Promise<void> {
  const id = request.params.id;
  const status = await images
    .uploadStatus(callerOf(request), repoOf(images, request), id)
    .catch(() => undefined);
  if (status) reply.header("range", uploadRange(status.offset)).header("docker-upload-uuid", id);
}
