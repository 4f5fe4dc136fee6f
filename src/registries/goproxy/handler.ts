// The shape every GOPROXY endpoint handler shares: routes.ts parses the path once and hands each handler its target.
import type { FastifyReply, FastifyRequest } from "fastify";
import type { GoproxyTarget } from "./module-path.js";

export type GoproxyHandler<E extends GoproxyTarget["endpoint"]> = (
  request: FastifyRequest,
  reply: FastifyReply,
  target: Extract<GoproxyTarget, { endpoint: E }>,
) => Promise<FastifyReply>;

/** list and @latest move with every push. */
export const revalidate = "no-cache";
