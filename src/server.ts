// Composition root: config → storage → execution → services → routes, each built once by its file in compose/, and
// let go of in one order (compose/shutdown.ts). Nothing else wires parts together.
import type { FastifyInstance } from "fastify";
import { collectDefaultMetrics, Registry as MetricsRegistry } from "prom-client";
import { startExecution } from "./compose/execution.js";
import { createApp, listen, registerRoutes } from "./compose/http.js";
import { createServices } from "./compose/services.js";
import { runSetup, type StartHooks } from "./compose/setup.js";
import { createShutdown } from "./compose/shutdown.js";
import { openStorage } from "./compose/storage.js";
import type { Config } from "./config/schema.js";
import { createInvalidation, type InvalidationBus, localBus } from "./storage/meta/invalidation.js";

export type { StartHooks } from "./compose/setup.js";
export { checkStorage } from "./compose/storage.js";
export { formatFsckSummary } from "./services/fsck.js";

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  /** The h2c (gRPC) listener's URL, when server.h2cPort is set. */
  h2cUrl?: string;
  /** Set on the first start without PROTODEPOT_ADMIN_TOKEN: the admin's token, shown once. */
  adminToken?: string;
  close(): Promise<void>;
}

export interface ServerRuntimeOptions extends StartHooks {
  /** How this process's metadata writes reach the caches of its sibling workers (serve --workers N). */
  bus?: InvalidationBus;
  /**
   * Ensure the admin, register built-in plugins and seed the demo (default true). Of several workers only the first
   * does, before the others start, so they never race to create the same rows.
   */
  setup?: boolean;
}

export async function startServer(config: Config, hooks: ServerRuntimeOptions = {}): Promise<RunningServer> {
  const invalidation = createInvalidation(hooks.bus ?? localBus);
  const metrics = new MetricsRegistry();
  collectDefaultMetrics({ register: metrics });
  const shutdown = createShutdown();
  const http = createApp(config, { invalidation, metrics });
  const log = http.app.log;
  try {
    const storage = await openStorage(config, { invalidation, metrics, log, shutdown });
    const execution = await startExecution(config, { blobs: storage.blobs, log, shutdown });
    const services = createServices(config, { storage, execution, invalidation, metrics, log, shutdown });
    await registerRoutes(config, http, { services, meta: storage.meta, invalidation, metrics, shutdown });
    const admin =
      (hooks.setup ?? true)
        ? await runSetup(config, hooks, { services, execution, meta: storage.meta, log })
        : {};
    const { url, h2cUrl } = await listen(config, http);
    return {
      app: http.app,
      url,
      ...(h2cUrl ? { h2cUrl } : {}),
      ...(admin.secret ? { adminToken: admin.secret } : {}),
      close: shutdown.run,
    };
  } catch (err) {
    // A start that fails part-way (a busy port, a database it cannot open) lets go of what it already holds.
    await shutdown
      .run()
      .catch((closing: unknown) => log.warn({ err: closing }, "closing a failed start failed"));
    throw err;
  }
}
