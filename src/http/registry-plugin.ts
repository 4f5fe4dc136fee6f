// Every registry is one encapsulated Fastify plugin: its onRequest hook authenticates the caller before any
// handler (or body parser) runs, and its error handler renders every failure in the protocol's wire format, so
// no handler can forget either (Verdaccio checks access on every route the same way).
import type { FastifyError, FastifyInstance, FastifyReply } from "fastify";
import { Code, isRegistryError, RegistryError } from "../core/errors.js";
import type { AuthService } from "../services/auth.js";
import type { HotResponses } from "./hot-responses.js";
import { principalOf } from "./principal.js";
import { storageRetryAfterSeconds } from "./status.js";

export interface RegistryPlugin {
  /** For logs: "archive", "goproxy", "npm", … */
  name: string;
  /** Renders a domain error in the protocol's wire format (plain text, npm JSON, OCI errors, …). */
  renderError(reply: FastifyReply, err: RegistryError): FastifyReply;
  /**
   * Reads a credential form only this protocol's clients send into one the auth service reads (RubyGems: the token
   * as the Basic user name); without it the Authorization header is read as every other registry reads it.
   */
  authorization?(header: string | undefined): string | undefined;
  /** Registers the protocol's routes on the encapsulated instance; handlers read `request.principal`. */
  routes(app: FastifyInstance): void;
}

/** Errors Fastify itself raises before a handler (bad content type, body too large) keep their 4xx meaning. */
export function toRegistryError(error: unknown): RegistryError {
  if (isRegistryError(error)) return error;
  const status = (error as Partial<FastifyError>).statusCode;
  if (typeof status === "number" && status >= 400 && status < 500) {
    const code =
      status === 413 ? Code.ResourceExhausted : status === 404 ? Code.NotFound : Code.InvalidArgument;
    return new RegistryError(code, (error as Error).message, {}, { cause: error });
  }
  return RegistryError.from(error);
}

export function registerRegistry(
  app: FastifyInstance,
  auth: AuthService,
  plugin: RegistryPlugin,
  { hot }: { hot?: HotResponses } = {},
): void {
  app.register(async (scope) => {
    scope.addHook("onRequest", async (request) => {
      request.principal = plugin.authorization
        ? await auth.authenticate(plugin.authorization(request.headers.authorization))
        : await principalOf(auth, request);
    });
    if (hot) {
      // Sees the final payload, after the handler and every other hook: what a repeat of this request gets.
      scope.addHook("onSend", (request, reply, payload, done) => {
        hot.offer(request, reply, payload);
        done(null, payload);
      });
    }
    scope.setErrorHandler((error, request, reply) => {
      const err = toRegistryError(error);
      if (err.code === Code.Internal)
        request.log.error({ err: error, registry: plugin.name }, "request failed");
      if (err.code === Code.InsufficientStorage) {
        request.log.warn({ err: error, registry: plugin.name }, "write failed: storage full");
        reply.header("retry-after", String(storageRetryAfterSeconds));
      }
      if (err.code === Code.TooManyRequests && err.fields.retryAfterSeconds) {
        reply.header("retry-after", String(err.fields.retryAfterSeconds));
      }
      return plugin.renderError(reply, err);
    });
    plugin.routes(scope);
  });
}
