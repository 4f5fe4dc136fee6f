// The caller of an HTTP request, authenticated once per request and shared by every protocol.
import type { IncomingHttpHeaders } from "node:http";
import type { FastifyRequest } from "fastify";
import type { AuthService, ClientInfo, Principal } from "../services/auth.js";

declare module "fastify" {
  interface FastifyRequest {
    /** Set by each registry's onRequest hook (http/registry-plugin.ts) before any handler runs. */
    principal: Principal;
  }
}

const cache = new WeakMap<FastifyRequest, Promise<Principal>>();

/** Throws Unauthenticated (as a RegistryError) when credentials are present but wrong; each protocol renders it. */
export function principalOf(auth: AuthService, request: FastifyRequest): Promise<Principal> {
  let p = cache.get(request);
  if (!p) {
    p = auth.authenticate(request.headers.authorization, clientOf(request));
    cache.set(request, p);
  }
  return p;
}

const nodeCache = new WeakMap<object, Promise<Principal>>();

/**
 * principalOf for a plain Node request (the h2c listener, http/h2c.ts), once per request. Its address is the
 * socket's: no proxy header is trusted there.
 */
export function principalOfNodeRequest(
  auth: AuthService,
  request: { headers: IncomingHttpHeaders; socket?: { remoteAddress?: string | undefined } | null },
): Promise<Principal> {
  let p = nodeCache.get(request);
  if (!p) {
    const agent = request.headers["user-agent"];
    const address = request.socket?.remoteAddress;
    p = auth.authenticate(request.headers.authorization, {
      ...(address ? { address } : {}),
      ...(agent ? { userAgent: agent.slice(0, 256) } : {}),
    });
    nodeCache.set(request, p);
  }
  return p;
}

/**
 * Where a request came from: `request.ip` follows server.trustProxy (X-Forwarded-For only from trusted senders), and
 * `request.id` is the `reqId` of the request's log lines. The user agent is cut to what a log line needs.
 */
export function clientOf(request: FastifyRequest): ClientInfo {
  const agent = request.headers["user-agent"];
  return {
    address: request.ip,
    requestId: String(request.id),
    ...(agent ? { userAgent: agent.slice(0, 256) } : {}),
  };
}
