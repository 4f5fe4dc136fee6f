// Checks on management API requests that must run before Connect reads a byte of the body: size and caller.
import { Buffer } from "node:buffer";
import type { ConnectRouter } from "@connectrpc/connect";
import type { UniversalHandlerFn } from "@connectrpc/connect/protocol";
import type { FastifyInstance, FastifyReply } from "fastify";
import { Code, isRegistryError } from "../core/errors.js";
import { principalOf } from "../http/principal.js";
import type { AuthService, Principal } from "../services/auth.js";
import { goneMarker, limitMarker } from "./errors.js";

/**
 * RPCs that no anonymous caller may make, and what to tell one: their bodies are large (and GenerateCode runs
 * plugins over whatever image it carries), so a stranger's is not even read.
 */
const needsToken: ReadonlyMap<string, string> = new Map([
  ["/protodepot.v1.ModuleService/Push", "pushing needs a token: pass --token or run 'protodepot login'"],
  ["/buf.registry.module.v1.UploadService/Upload", "pushing needs a token: run 'buf registry login HOST'"],
  [
    "/buf.alpha.registry.v1alpha1.CodeGenerationService/GenerateCode",
    "remote plugins need a token: run 'buf registry login HOST' (or set BUF_TOKEN)",
  ],
]);

/** Our API, the buf CLI's Connect services (registries/buf) and gRPC reflection, served by one Connect router. */
export const connectPrefixes = [
  "/protodepot.v1.",
  "/buf.registry.",
  "/buf.alpha.registry.",
  "/buf.reflect.",
  "/grpc.reflection.",
];

export interface ApiGuardOptions {
  auth: AuthService;
  maxBodyBytes: number;
}

/** Why a request must be refused before its body is read: its size, a wrong token, or no token where one is needed. */
export interface EarlyRefusal {
  status: 401 | 413;
  code: "unauthenticated" | "resource_exhausted";
  message: string;
}

/**
 * The checks every Connect request passes before its body is read, on the HTTP/1.1 port and the h2c port alike.
 * `principal` authenticates the request (once: it may be asked again later).
 */
export async function refuseEarly(
  request: { path: string; contentLength: string | undefined; principal: () => Promise<Principal> },
  maxBodyBytes: number,
): Promise<EarlyRefusal | undefined> {
  const length = Number(request.contentLength ?? 0);
  if (length > maxBodyBytes) {
    return {
      status: 413,
      code: "resource_exhausted",
      message: `request body is ${length} bytes; this server accepts at most ${maxBodyBytes} (limits.maxUploadBytes)`,
    };
  }
  try {
    const principal = await request.principal();
    const refusal = needsToken.get(request.path);
    if (!principal.user && refusal) return { status: 401, code: "unauthenticated", message: refusal };
  } catch (err) {
    if (!isRegistryError(err, Code.Unauthenticated)) throw err;
    return { status: 401, code: "unauthenticated", message: err.message };
  }
  return undefined;
}

export function registerApiGuards(app: FastifyInstance, { auth, maxBodyBytes }: ApiGuardOptions): void {
  app.addHook("onRequest", async (request, reply) => {
    if (request.method !== "POST" || !connectPrefixes.some((p) => request.url.startsWith(p))) return;
    const refusal = await refuseEarly(
      {
        path: request.url.split("?")[0] ?? "",
        contentLength: request.headers["content-length"],
        principal: () => principalOf(auth, request),
      },
      maxBodyBytes,
    );
    if (refusal) return sendConnectError(reply, refusal.status, refusal.code, refusal.message);
  });
}

function sendConnectError(reply: FastifyReply, status: number, code: string, message: string) {
  return reply.code(status).type("application/json").send({ code, message });
}

/**
 * Wraps the router's handlers where Connect's choice of status misleads plain HTTP clients. Connect sends
 * resource_exhausted as 429, which clients and proxies retry; in this API it only ever means a request over a
 * size or count limit (a chunked body past limits.maxUploadBytes, too many files), so it becomes 413. A binary
 * body that does not decode is Connect's "internal" (500); it is the caller's fault, so it becomes 400. A full
 * disk is resource_exhausted too, sent with Retry-After: it becomes 507 Insufficient Storage. An owner's quota
 * or a rate limit (marked by api/errors.ts) stays 429. A deleted thing's name (failed_precondition marked by errors.ts) becomes
 * 410 Gone, as on every other registry.
 * Call after every service is registered.
 */
export function withClientStatuses(router: ConnectRouter, maxBodyBytes: number): void {
  router.handlers.forEach((handler, i) => {
    const wrapped: UniversalHandlerFn = async (request) => {
      const response = await handler(request);
      if (response.header?.has(goneMarker)) {
        const header = new Headers(response.header);
        header.delete(goneMarker);
        return { ...response, status: 410, header };
      }
      if ((response.status !== 429 && response.status !== 500) || !response.body) return response;
      const body = await collect(response.body);
      const error = parseErrorBody(body);
      const replace = (status: number, code: string, message: string) => {
        const fixed = new TextEncoder().encode(JSON.stringify({ code, message }));
        const header = new Headers(response.header);
        header.set("content-length", String(fixed.byteLength));
        return { ...response, status, header, body: once(fixed) };
      };
      if (response.status === 429) {
        // Connect's own message names its option, not ours.
        if (error?.message.startsWith("message size is larger than configured readMaxBytes")) {
          return replace(
            413,
            "resource_exhausted",
            `request body is larger than ${maxBodyBytes} bytes, the most this server accepts (limits.maxUploadBytes)`,
          );
        }
        // An owner's quota or a rate limit is used up: Connect's 429 says just that.
        if (response.header?.has(limitMarker)) {
          const header = new Headers(response.header);
          header.delete(limitMarker);
          return { ...response, header, body: once(body) };
        }
        // resource_exhausted with Retry-After is a full disk (api/errors.ts), which the caller may retry.
        if (response.header?.has("retry-after")) return { ...response, status: 507, body: once(body) };
        return { ...response, status: 413, body: once(body) };
      }
      if (error?.code === "internal" && error.message.startsWith("parse binary:")) {
        return replace(
          400,
          "invalid_argument",
          `the request body is not a valid ${handler.method.input.typeName} message (${error.message})`,
        );
      }
      return { ...response, body: once(body) };
    };
    router.handlers[i] = Object.assign(wrapped, handler);
  });
}

async function collect(body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

function parseErrorBody(bytes: Uint8Array): { code: string; message: string } | undefined {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof value !== "object" || value === null) return undefined;
    const { code, message } = value as { code?: unknown; message?: unknown };
    return typeof code === "string" && typeof message === "string" ? { code, message } : undefined;
  } catch {
    return undefined;
  }
}
