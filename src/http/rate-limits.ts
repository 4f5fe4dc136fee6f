// Request rate limits per caller (docs/tokens.md, "Rate limits"): each token, and each client address for
// anonymous callers and refused credentials, may make a number of requests per window, by role; past it a 429 with
// Retry-After and the RateLimit-* headers. Counted per node, in memory.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { AuthService, Principal } from "../services/auth.js";
import { principalOf } from "./principal.js";

export type RateRole = "anonymous" | "user" | "bot" | "admin";

export interface RateLimitOptions {
  windowMs: number;
  /** Requests per window per caller, by role; 0: unlimited. */
  requests: Record<RateRole, number>;
  /** Callers counted at once; past it the oldest window's entries are dropped first (a bound on memory). */
  maxKeys?: number;
  now?: () => number;
}

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window ends. */
  resetSeconds: number;
}

export interface RateLimiter {
  /** Counts one request of `key` under `limit` (0: unlimited, never refused). */
  take(key: string, limit: number): RateDecision | undefined;
}

/** Fixed windows per key: simple, O(1) per request, and the bound a window allows is exact. */
export function createRateLimiter(opts: Pick<RateLimitOptions, "windowMs" | "maxKeys" | "now">): RateLimiter {
  const now = opts.now ?? Date.now;
  const maxKeys = opts.maxKeys ?? 100_000;
  const windows = new Map<string, { start: number; count: number }>();
  return {
    take(key, limit) {
      if (limit <= 0) return undefined;
      const at = now();
      let w = windows.get(key);
      if (!w || at - w.start >= opts.windowMs) {
        if (w) windows.delete(key);
        if (windows.size >= maxKeys) {
          // Map order is insertion order: the first entries have the oldest windows.
          for (const [k, old] of windows) {
            if (windows.size < maxKeys && at - old.start < opts.windowMs) break;
            windows.delete(k);
          }
        }
        w = { start: at, count: 0 };
        windows.set(key, w);
      }
      w.count++;
      const resetSeconds = Math.max(1, Math.ceil((w.start + opts.windowMs - at) / 1000));
      return {
        allowed: w.count <= limit,
        limit,
        remaining: Math.max(0, limit - w.count),
        resetSeconds,
      };
    },
  };
}

/** Who a request is counted as, and under which role. */
export function rateKeyOf(
  principal: Principal | undefined,
  address: string,
): { key: string; role: RateRole } {
  const user = principal?.user;
  if (!user || !principal?.tokenId) return { key: `addr:${address}`, role: "anonymous" };
  const role: RateRole = user.isAdmin ? "admin" : user.botOf ? "bot" : "user";
  return { key: `token:${principal.tokenId}`, role };
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
  const limiter = createRateLimiter(opts);
  app.addHook("onRequest", async (request: FastifyRequest, reply) => {
    if (exempt.has(request.url.split("?")[0] ?? "")) return;
    // A refused credential is counted against its address; the registry's own hook answers it with its 401.
    const principal = await principalOf(auth, request).catch(() => undefined);
    const { key, role } = rateKeyOf(principal, request.ip);
    const decision = limiter.take(key, opts.requests[role]);
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
