// GET /metrics: Prometheus metrics, for whom `server.metrics` says (admins by default: they map the server).
import type { FastifyInstance } from "fastify";
import type { Registry } from "prom-client";
import { Code, RegistryError } from "../core/errors.js";
import type { AuthService } from "../services/auth.js";
import { principalOf } from "./principal.js";
import { httpStatus } from "./status.js";

export type MetricsAccess = "public" | "admin" | "off";

export function registerMetricsRoute(
  app: FastifyInstance,
  { auth, metrics, access }: { auth: AuthService; metrics: Registry; access: MetricsAccess },
): void {
  if (access === "off") return;
  app.get("/metrics", async (request, reply) => {
    try {
      const caller = await principalOf(auth, request);
      if (access === "admin" && !caller.user?.isAdmin) {
        throw new RegistryError(
          caller.user ? Code.PermissionDenied : Code.Unauthenticated,
          "metrics are for admins: scrape with an admin token (Bearer), or set server.metrics: public",
        );
      }
      return reply.type(metrics.contentType).send(await metrics.metrics());
    } catch (reason) {
      const err = RegistryError.from(reason);
      if (err.code === Code.Unauthenticated) reply.header("www-authenticate", 'Bearer realm="protodepot"');
      return reply.code(httpStatus[err.code]).type("text/plain; charset=utf-8").send(`${err.message}\n`);
    }
  });
}
