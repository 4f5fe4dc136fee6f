// What every /v2/ handler reads from a request: the repository, the caller, the raw body stream.
import type { Readable } from "node:stream";
import type { FastifyRequest } from "fastify";
import type { FullName } from "../../core/names.js";
import type { Principal } from "../../services/auth.js";
import type { ImageService } from "../../services/images.js";

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
