// Request rate limits per caller (docs/tokens.md, "Rate limits"): each token, and each client address for
// anonymous callers and refused credentials, may make a number of requests per window, by role; past it a 429 with
// Retry-After and the RateLimit-* headers. Counted per node in memory, or shared by the nodes of one database
// (services/rate-limiter.ts).
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { AuthService } from "../services/auth.js";
import { createRateLimiter, type RateLimiter, type RateRole, rateKeyOf } from "../services/rate-limiter.js";
import { principalOf } from "./principal.js";

export { createRateLimiter, type RateDecision, type RateRole, rateKeyOf } from "../services/rate-limiter.js";

export interface RateLimitOptions {
  windowMs: number;
  /** Requests per window per caller, by role; 0: unlimited. */
  requests: Record<RateRole, number>;
  /** Callers counted at once; past it the oldest window's entries are dropped first (a bound on memory). */
  maxKeys?: number;
  now?: () => number;
  /** Counts elsewhere (shared by nodes); default: this node's memory. */
  limiter?: RateLimiter;
}

const exempt = new Set(["/healthz"]);

/**
 * Counts every routed request before its handler runs (an app-wide onRequest hook, so before any registry's own);
 * `/healthz` is exempt. Repeat downloads answered from memory before routing (http/hot-responses.ts) are not
 * counted: they cost no handler.
 */
export function registerRateLimits(app: FastifyInstance, auth: AuthService, opts: RateLimitOptions): void {
  // Off (every limit 0, the default): no hook at all.
  if (Object.values(opts.requests).every((n) => n <= 0)) return;
  const limiter = opts.limiter ?? createRateLimiter(opts);
  app.addHook("onRequest", async (request: FastifyRequest, reply) => {
    if (exempt.has(request.url.split("?")[0] ?? "")) return;
    // A refused credential is counted against its address; the registry's own hook answers it with its 401.
    const principal = await principalOf(auth, request).catch(() => undefined);
    const { key, role } = rateKeyOf(principal, request.ip);
    const decision = await limiter.take(key, opts.requests[role]);
    if (!decision) return;
    reply.header("ratelimit-limit", String(decision.limit));
    reply.header("ratelimit-remaining", String(decision.remaining));
    reply.header("ratelimit-reset", String(decision.resetSeconds));
    reply.header("ratelimit-policy", `${decision.limit};w=${Math.ceil(opts.windowMs / 1000)}`);
    if (decision.allowed) return;
    reply.header("retry-after", String(decision.resetSeconds));
    return reply
      .code(429)
      .type("text/plain; charset=utf-8")
      .send(
        `too many requests: ${decision.limit} per ${Math.ceil(opts.windowMs / 1000)} s for ${role === "anonymous" ? "an anonymous client address" : "one token"} (rateLimits.${role}); retry in ${decision.resetSeconds} s\n`,
      );
  });
}
