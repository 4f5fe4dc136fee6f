// Request rate limits per caller (docs/tokens.md, "Rate limits"): each token, and each client address for
// anonymous callers and refused credentials, may make a number of requests per window, by role; past it a 429 with
// Retry-After and the RateLimit-* headers. Counted per node in memory, or shared by the nodes of one database
// (services/rate-limiter.ts). Routed requests are counted by an app-wide hook; repeat downloads answered from memory
// before routing (http/hot-responses.ts) by the same rules through `createKeptAdmission`.
import type { IncomingMessage } from "node:http";
import type { Http2ServerRequest } from "node:http2";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { AuthService, Principal } from "../services/auth.js";
import {
  createRateLimiter,
  type RateDecision,
  type RateLimiter,
  type RateRole,
  rateKeyOf,
} from "../services/rate-limiter.js";
import type { ClientAddress } from "./client-address.js";
import type { H2cRefusal } from "./h2c.js";
import type { KeptAdmission, KeptCaller } from "./hot-responses.js";
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

/** Every limit 0 (the default): nothing is counted. */
export const rateLimitsOff = (opts: Pick<RateLimitOptions, "requests">): boolean =>
  Object.values(opts.requests).every((n) => n <= 0);

const exempt = new Set(["/healthz"]);

/**
 * The RateLimit-* headers of a decision, as alternating names and values: limit, remaining and reset on every
 * answer; the policy and Retry-After only on a refusal (they say nothing new to a caller under its limit, and each
 * header is paid on every download, kept ones included).
 */
function rateHeaders(decision: RateDecision, windowMs: number): string[] {
  const headers = [
    "ratelimit-limit",
    String(decision.limit),
    "ratelimit-remaining",
    String(decision.remaining),
    "ratelimit-reset",
    String(decision.resetSeconds),
  ];
  if (!decision.allowed) {
    headers.push("ratelimit-policy", `${decision.limit};w=${Math.ceil(windowMs / 1000)}`);
    headers.push("retry-after", String(decision.resetSeconds));
  }
  return headers;
}

const refusalText = (decision: RateDecision, role: RateRole, windowMs: number): string =>
  `too many requests: ${decision.limit} per ${Math.ceil(windowMs / 1000)} s for ${role === "anonymous" ? "an anonymous client address" : "one token"} (rateLimits.${role}); retry in ${decision.resetSeconds} s\n`;

/**
 * Counts every routed request before its handler runs (an app-wide onRequest hook, so before any registry's own);
 * `/healthz` is exempt.
 */
export function registerRateLimits(app: FastifyInstance, auth: AuthService, opts: RateLimitOptions): void {
  // Off: no hook at all.
  if (rateLimitsOff(opts)) return;
  const limiter = opts.limiter ?? createRateLimiter(opts);
  app.addHook("onRequest", async (request: FastifyRequest, reply) => {
    if (exempt.has(request.url.split("?")[0] ?? "")) return;
    // A refused credential is counted against its address; the registry's own hook answers it with its 401.
    const principal = await principalOf(auth, request).catch(() => undefined);
    const { key, role } = rateKeyOf(principal, request.ip);
    const decision = await limiter.take(key, opts.requests[role]);
    if (!decision) return;
    const headers = rateHeaders(decision, opts.windowMs);
    for (let i = 0; i < headers.length; i += 2) reply.header(headers[i] as string, headers[i + 1]);
    if (decision.allowed) return;
    return reply
      .code(429)
      .type("text/plain; charset=utf-8")
      .send(refusalText(decision, role, opts.windowMs));
  });
}

/**
 * The same count for a request of the h2c port (http/h2c.ts), answered as a refusal there: by token, or by the
 * socket's address (no proxy header is trusted on that port). A refused credential counts against its address.
 */
export function createH2cRateCheck(
  opts: RateLimitOptions & { limiter: RateLimiter },
  principal: (req: Http2ServerRequest) => Promise<Principal>,
): ((req: Http2ServerRequest) => Promise<H2cRefusal | undefined>) | undefined {
  if (rateLimitsOff(opts)) return undefined;
  return async (req) => {
    const caller = await principal(req).catch(() => undefined);
    const { key, role } = rateKeyOf(caller, req.socket?.remoteAddress ?? "");
    const decision = await opts.limiter.take(key, opts.requests[role]);
    if (!decision || decision.allowed) return undefined;
    return {
      status: 429,
      code: "resource_exhausted",
      message: refusalText(decision, role, opts.windowMs).trimEnd(),
      retryAfterSeconds: decision.resetSeconds,
    };
  };
}

/**
 * The same count for a kept answer: its caller is the token it was made for, or the request's own address. An
 * answer the limiter decides on what it holds is admitted or refused in the request's own turn.
 */
export function createKeptAdmission(
  opts: RateLimitOptions & { limiter: RateLimiter },
  addressOf: ClientAddress,
): KeptAdmission | undefined {
  if (rateLimitsOff(opts)) return undefined;
  const admit = (role: RateRole, decision: RateDecision | undefined) => {
    if (!decision) return undefined;
    const headers = rateHeaders(decision, opts.windowMs);
    return decision.allowed
      ? { headers }
      : { headers, refusal: { status: 429, body: refusalText(decision, role, opts.windowMs) } };
  };
  return (req: IncomingMessage, caller: KeptCaller) => {
    const key = caller.role === "anonymous" ? rateKeyOf(undefined, addressOf(req)).key : caller.key;
    const decision = opts.limiter.take(key, opts.requests[caller.role]);
    return decision instanceof Promise
      ? decision.then((d) => admit(caller.role, d))
      : admit(caller.role, decision);
  };
}
