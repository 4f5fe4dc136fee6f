// GET /v2/{owner}/{name}/tags/list?n=&last=: the plugin's image versions, lexically, paged with a Link header.
import type { FastifyReply, FastifyRequest } from "fastify";
import { Code } from "../../core/errors.js";
import type { ImageService } from "../../services/images.js";
import { ociError } from "./errors.js";
import { callerOf, type RepoParams, repoOf, repoPath } from "./request.js";

export function createTagsListHandler(images: ImageService) {
  return async (
    request: FastifyRequest<{ Params: RepoParams; Querystring: { n?: string; last?: string } }>,
    reply: FastifyReply,
  ) => {
    const repo = repoOf(images, request);
    const { n, last } = request.query;
    const limit = n === undefined || n === "" ? undefined : Number(n);
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
      throw ociError(Code.InvalidArgument, "UNSUPPORTED", `invalid n "${n}": a non-negative integer`);
    }
    let tags = await images.listTags(callerOf(request), repo);
    if (last) tags = tags.filter((t) => t > last);
    const page = limit === undefined ? tags : tags.slice(0, limit);
    if (limit !== undefined && tags.length > limit && page.length) {
      const next = `${repoPath(repo)}/tags/list?n=${limit}&last=${encodeURIComponent(page[page.length - 1] ?? "")}`;
      reply.header("link", `<${next}>; rel="next"`);
    }
    return reply
      .type("application/json")
      .send(JSON.stringify({ name: `${repo.owner}/${repo.name}`, tags: page }));
  };
}
