// The caller of an HTTP request, authenticated once per request and shared by every protocol.
import type { FastifyRequest } from "fastify";
import type { AuthService, Principal } from "../services/auth.js";

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
    p = auth.authenticate(request.headers.authorization);
    cache.set(request, p);
  }
  return p;
}
