// Repeat downloads answered before Fastify routes them: the status line, headers and bytes a download route sent a
// moment ago, for the very same URL and credentials. On a cached artifact Fastify's routing, hooks and reply
// pipeline cost several times the answer itself; this is what lets a worker answer at the speed of a static server.
//
// An answer is kept only when its route says its bytes depend on nothing but the URL and the caller (`keepHot`),
// only for a 200 whose body was one buffer, and it is reused under the rules every cache of mutable metadata
// follows here (core/cache.ts): no write since it was made (the invalidation epoch, bumped in every worker by any
// write that can move a label, a head, a template's versions, a visibility, a membership or a token), never past
// the mutable-metadata TTL (another node's writes), never past the token's expiry. Conditional and range requests
// always go to Fastify. A kept answer is counted by the rate limits like a routed one (`limit`): under the token it
// was made for, or the address of the request it answers.
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { FastifyReply, FastifyRequest } from "fastify";
import { createCache } from "../core/cache.js";
import { type RateRole, rateKeyOf } from "../services/rate-limiter.js";
import {
  type ConnectionLimits,
  type GuardedServer,
  guardServer,
  type RefusedReason,
  serverOptions,
} from "./connection-limits.js";

export interface HotResponses {
  /** Answers `req` from memory when a fresh answer is kept; false hands it to Fastify. */
  serve(req: IncomingMessage, res: ServerResponse): boolean;
  /** Notes the epoch a request handed to Fastify started in, so its answer is never kept past a write since. */
  started(req: IncomingMessage): void;
  /** Keeps the answer a route marked with `keepHot`; called by the registry's onSend hook with the final payload. */
  offer(request: FastifyRequest, reply: FastifyReply, payload: unknown): void;
  /** Counts every kept answer's request from now on (the rate limits, known once the services are composed). */
  limit(admission: KeptAdmission | undefined): void;
}

/** Who a kept answer was made for, as the rate limits count callers (an anonymous caller by each request's address). */
export interface KeptCaller {
  key: string;
  role: RateRole;
}

/** What a kept answer passes before it is sent: headers to add, or a refusal to send instead; nothing when unlimited. */
export interface Admitted {
  headers: string[];
  refusal?: { status: number; body: string };
}

export type KeptAdmission = (
  req: IncomingMessage,
  caller: KeptCaller,
) => Admitted | undefined | Promise<Admitted | undefined>;

export interface HotResponseOptions {
  /** The epoch of mutable metadata (src/storage/meta/invalidation.ts). */
  epoch(): number;
  /** Longest reuse of one answer; 0 turns the cache off. */
  ttlMs: number;
  /** Memory for kept answers (bodies are usually the content cache's own buffers); 0 turns the cache off. */
  maxBytes: number;
  /** Larger bodies are never kept. */
  maxItemBytes: number;
  /** Counts the answers served from memory (a Prometheus counter in the server). */
  onHit?: () => void;
  now?: () => number;
}

interface Entry {
  /** Alternating names and values, ready for writeHead. */
  headers: string[];
  body: Uint8Array;
  caller: KeptCaller;
}

const marked = new WeakSet<FastifyReply>();

/** A route's promise that this answer's bytes depend only on the URL, the caller and the metadata epoch. */
export function keepHot(reply: FastifyReply): FastifyReply {
  marked.add(reply);
  return reply;
}

/** Anything in these headers can change the answer: such requests always take the full path. */
const conditional = [
  "range",
  "if-none-match",
  "if-modified-since",
  "if-match",
  "if-unmodified-since",
  "if-range",
];

/** Node writes these per response (or per connection) itself; the rate limits' own are written per request. */
const perResponse = new Set([
  "date",
  "connection",
  "keep-alive",
  "transfer-encoding",
  "ratelimit-limit",
  "ratelimit-remaining",
  "ratelimit-reset",
  "ratelimit-policy",
]);

function send(req: IncomingMessage, res: ServerResponse, hit: Entry, admitted: Admitted | undefined): void {
  if (admitted?.refusal) {
    const body = Buffer.from(admitted.refusal.body);
    res.writeHead(admitted.refusal.status, [
      ...admitted.headers,
      "content-type",
      "text/plain; charset=utf-8",
      "content-length",
      String(body.byteLength),
    ]);
    res.end(req.method === "HEAD" ? undefined : body);
    return;
  }
  res.writeHead(200, admitted ? [...hit.headers, ...admitted.headers] : hit.headers);
  if (req.method === "HEAD") res.end();
  else res.end(hit.body);
}

const keyOf = (req: IncomingMessage) => `${req.headers.authorization ?? ""}\0${req.url ?? ""}`;

export function createHotResponses(opts: HotResponseOptions): HotResponses {
  const now = opts.now ?? Date.now;
  const begun = new WeakMap<IncomingMessage, number>();
  if (opts.ttlMs <= 0 || opts.maxBytes <= 0) {
    return { serve: () => false, started() {}, offer() {}, limit() {} };
  }
  let admission: KeptAdmission | undefined;
  // An entry is read under the epoch its request started in, and lives until the TTL or the caller's token expiry.
  const entries = createCache<Entry>({
    bound: { maxSize: opts.maxBytes, sizeOf: (e, key) => e.body.byteLength + key.length + 256 },
    ttlMs: opts.ttlMs,
    epoch: () => opts.epoch(),
    now,
  });
  return {
    serve(req, res) {
      if (req.method !== "GET" && req.method !== "HEAD") return false;
      const headers = req.headers;
      for (const name of conditional) if (headers[name] !== undefined) return false;
      const hit = entries.get(keyOf(req));
      if (!hit) return false;
      opts.onHit?.();
      const admitted = admission?.(req, hit.caller);
      if (!(admitted instanceof Promise)) send(req, res, hit, admitted);
      else
        admitted.then(
          (a) => send(req, res, hit, a),
          () => res.destroy(),
        );
      return true;
    },
    started(req) {
      begun.set(req, opts.epoch());
    },
    offer(request, reply, payload) {
      if (!marked.has(reply) || request.method !== "GET" || reply.statusCode !== 200) return;
      // One buffer or a string (go.mod, .info, checksums); a stream is a blob too large to hold.
      const body = typeof payload === "string" ? Buffer.from(payload) : payload;
      if (!(body instanceof Uint8Array) || body.byteLength > opts.maxItemBytes) return;
      const epoch = begun.get(request.raw);
      // Made before a write that may have moved what it read, or not through our server (inject): keep nothing.
      if (epoch === undefined || epoch !== opts.epoch()) return;
      const expiry = request.principal?.tokenExpiresAt;
      const ttlMs = expiry ? Date.parse(expiry) - now() : opts.ttlMs;
      const headers: string[] = [];
      for (const [name, value] of Object.entries(reply.getHeaders())) {
        if (value === undefined || perResponse.has(name)) continue;
        if (Array.isArray(value)) for (const v of value) headers.push(name, v);
        else headers.push(name, String(value));
      }
      if (reply.getHeader("content-length") === undefined)
        headers.push("content-length", String(body.byteLength));
      const { key, role } = rateKeyOf(request.principal, "");
      entries.set(keyOf(request.raw), { headers, body, caller: { key, role } }, { epoch, ttlMs });
    },
    limit(a) {
      admission = a;
    },
  };
}

/** Node's default unless Fastify passes its own (it passes every one of these). */
const numberOr = (value: unknown, fallback: number) => (typeof value === "number" ? value : fallback);

/** What the server factory guards connections with (http/connection-limits.ts). */
export interface ServerGuard {
  limits: ConnectionLimits;
  onRefused?: (reason: RefusedReason) => void;
}

/**
 * Fastify's serverFactory: kept answers first, everything else to Fastify's own handler. Without a guard the
 * server is configured as Fastify configures its own (keep-alive, request and connection timeouts, requests per
 * socket); with one, its connection limits and timeouts decide instead.
 */
export function createServerWith(
  hot: HotResponses,
  tls: { cert: Buffer; key: Buffer } | undefined,
  guard?: ServerGuard,
): (handler: RequestListener, opts: Record<string, unknown>) => Server {
  return (handler, opts) => {
    let guarded: GuardedServer | undefined;
    const listener: RequestListener = (req, res) => {
      guarded?.track(req, res);
      if (hot.serve(req, res)) return;
      hot.started(req);
      handler(req, res);
    };
    const options = guard ? serverOptions(guard.limits) : {};
    const server: Server = tls
      ? createHttpsServer(
          { ...tls, ...options, ...(guard ? { handshakeTimeout: guard.limits.headersTimeoutMs } : {}) },
          listener,
        )
      : createHttpServer(options, listener);
    const perSocket = numberOr(opts.maxRequestsPerSocket, 0);
    if (perSocket > 0) server.maxRequestsPerSocket = perSocket;
    if (guard) {
      guarded = guardServer(server, guard.limits, guard.onRefused);
      return server;
    }
    server.keepAliveTimeout = numberOr(opts.keepAliveTimeout, server.keepAliveTimeout);
    server.requestTimeout = numberOr(opts.requestTimeout, server.requestTimeout);
    server.setTimeout(numberOr(opts.connectionTimeout, 0));
    return server;
  };
}
