// `serve --workers N`: N processes accept on one port (node:cluster); the primary only starts, relays and restarts.
import cluster, { type Worker } from "node:cluster";
import { availableParallelism } from "node:os";
import type { Config } from "../config/schema.js";
import type { StartHooks } from "../server.js";
import { createWorkerBus, relayInvalidations } from "./invalidation-bus.js";

/** What a worker tells the primary once it listens. */
interface ReadyMessage {
  type: "protodepot:ready";
  url: string;
  adminToken?: string;
}

const isReady = (m: unknown): m is ReadyMessage =>
  typeof m === "object" && m !== null && (m as { type?: unknown }).type === "protodepot:ready";

export function workerCount(setting: Config["server"]["workers"]): number {
  return setting === "auto" ? availableParallelism() : setting;
}

export const isWorker = () => cluster.isWorker;

export interface Started {
  url: string;
  adminToken?: string;
  /** Closes every worker's server gracefully, then resolves. */
  close(): Promise<void>;
}

/**
 * The primary: forks the first worker alone (it migrates the database, ensures the admin, seeds), then the rest,
 * which skip that setup. A worker that dies is replaced; its in-flight requests fail, the others' do not.
 */
export async function startPrimary(count: number, onLog: (line: string) => void): Promise<Started> {
  const live = new Set<Worker>();
  let closing = false;
  const fork = (setup: boolean) =>
    new Promise<{ worker: Worker; ready: ReadyMessage }>((resolve, reject) => {
      const worker = cluster.fork({ PROTODEPOT_WORKER_SETUP: setup ? "1" : "0" });
      live.add(worker);
      relayInvalidations(() => live, worker);
      const onMessage = (m: unknown) => {
        if (!isReady(m)) return;
        worker.off("message", onMessage);
        worker.off("exit", onEarlyExit);
        resolve({ worker, ready: m });
      };
      const onEarlyExit = (code: number | null) => {
        live.delete(worker);
        reject(new Error(`worker exited with code ${code} before listening`));
      };
      worker.on("message", onMessage);
      worker.once("exit", onEarlyExit);
      worker.once("exit", (code, signal) => {
        live.delete(worker);
        if (closing) return;
        onLog(`protodepot: worker ${worker.process.pid} exited (${signal ?? code}); starting another`);
        fork(false).catch((err: unknown) => onLog(`protodepot: restarting a worker failed: ${String(err)}`));
      });
    });

  const first = await fork(true);
  await Promise.all(Array.from({ length: count - 1 }, () => fork(false)));
  return {
    url: first.ready.url,
    ...(first.ready.adminToken ? { adminToken: first.ready.adminToken } : {}),
    async close() {
      closing = true;
      await Promise.all(
        [...live].map(
          (w) =>
            new Promise<void>((resolve) => {
              w.once("exit", () => resolve());
              w.send({ type: "protodepot:shutdown" });
            }),
        ),
      );
    },
  };
}

/** A worker: serves with the cluster bus, tells the primary it listens, and closes when asked. */
export async function startWorker(config: Config, hooks: StartHooks = {}): Promise<void> {
  const { startServer } = await import("../server.js");
  const server = await startServer(config, {
    ...hooks,
    bus: createWorkerBus(),
    setup: process.env.PROTODEPOT_WORKER_SETUP === "1",
  });
  let closing = false;
  const close = () => {
    if (closing) return;
    closing = true;
    void server.close().finally(() => process.exit(0));
  };
  process.on("message", (m: unknown) => {
    if (typeof m === "object" && m !== null && (m as { type?: unknown }).type === "protodepot:shutdown")
      close();
  });
  process.once("SIGINT", close);
  process.once("SIGTERM", close);
  process.send?.({
    type: "protodepot:ready",
    url: server.url,
    ...(server.adminToken ? { adminToken: server.adminToken } : {}),
  } satisfies ReadyMessage);
}
