// Checks on management API requests that must run before Connect reads a byte of the body: size and caller.
import { Buffer } from "node:buffer";
import type { ConnectRouter } from "@connectrpc/connect";
import type { UniversalHandlerFn } from "@connectrpc/connect/protocol";
import type { FastifyInstance, FastifyReply } from "fastify";
import { Code, isRegistryError } from "../core/errors.js";
import { principalOf } from "../http/principal.js";
import type { AuthService } from "../services/auth.js";
import { goneMarker } from "./errors.js";

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

/** Our API and the buf CLI's Connect services (registries/buf), served by the same Connect router. */
const connectPrefixes = ["/protodepot.v1.", "/buf.registry.", "/buf.alpha.registry."];

export interface ApiGuardOptions {
  auth: AuthService;
  maxBodyBytes: number;
}

export function registerApiGuards(app: FastifyInstance, { auth, maxBodyBytes }: ApiGuardOptions): void {
  app.addHook("onRequest", async (request, reply) => {
    if (request.method !== "POST" || !connectPrefixes.some((p) => request.url.startsWith(p))) return;
    const length = Number(request.headers["content-length"] ?? 0);
    if (length > maxBodyBytes) {
      return sendConnectError(
        reply,
        413,
        "resource_exhausted",
        `request body is ${length} bytes; this server accepts at most ${maxBodyBytes} (limits.maxUploadBytes)`,
      );
    }
    try {
      const principal = await principalOf(auth, request);
      const path = request.url.split("?")[0] ?? "";
      const refusal = needsToken.get(path);
      if (!principal.user && refusal) return sendConnectError(reply, 401, "unauthenticated", refusal);
    } catch (err) {
      if (!isRegistryError(err, Code.Unauthenticated)) throw err;
      return sendConnectError(reply, 401, "unauthenticated", err.message);
    }
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
 * disk is resource_exhausted too, sent with Retry-After: it becomes 507 Insufficient Storage. A deleted thing's
 * name (failed_precondition marked by errors.ts) becomes 410 Gone, as on every other registry.
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
