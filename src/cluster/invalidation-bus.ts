// The InvalidationBus of `serve --workers N`: workers publish through the primary, which relays to the others and
// answers once every one of them has dropped its caches.
import type { Worker } from "node:cluster";
import type { InvalidationBus } from "../storage/meta/invalidation.js";

/** Messages between a worker and the primary; the prefix keeps them apart from anything else on the channel. */
export type BusMessage =
  | { type: "protodepot:invalidate"; id: number }
  | { type: "protodepot:invalidated"; id: number }
  | { type: "protodepot:drop"; id: number }
  | { type: "protodepot:dropped"; id: number };

export function isBusMessage(m: unknown): m is BusMessage {
  return (
    typeof m === "object" &&
    m !== null &&
    typeof (m as { type?: unknown }).type === "string" &&
    (m as { type: string }).type.startsWith("protodepot:") &&
    typeof (m as { id?: unknown }).id === "number"
  );
}

/** How long a write waits for a sibling that does not answer (it is dying, or stuck) before it answers anyway. */
const ackTimeoutMs = 2000;

/** The bus of a worker process: `process.send` to the primary, drops on its messages. */
export function createWorkerBus(proc: NodeJS.Process = process): InvalidationBus {
  let next = 0;
  const waiting = new Map<number, () => void>();
  const drops: (() => void)[] = [];
  proc.on("message", (m: unknown) => {
    if (!isBusMessage(m)) return;
    if (m.type === "protodepot:invalidated") {
      waiting.get(m.id)?.();
      waiting.delete(m.id);
    } else if (m.type === "protodepot:drop") {
      for (const drop of drops) drop();
      proc.send?.({ type: "protodepot:dropped", id: m.id } satisfies BusMessage);
    }
  });
  return {
    publish() {
      if (!proc.send || !proc.connected) return Promise.resolve();
      const id = ++next;
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          resolve();
        }, ackTimeoutMs);
        timer.unref();
        waiting.set(id, () => {
          clearTimeout(timer);
          resolve();
        });
        proc.send?.({ type: "protodepot:invalidate", id } satisfies BusMessage);
      });
    },
    subscribe(drop) {
      drops.push(drop);
    },
  };
}

/** Drop requests are numbered across every sender, so one worker's answer can only match its own request. */
let relayed = 0;

/**
 * Runs in the primary: relays each worker's invalidation to every other live worker and acknowledges it to the
 * sender once all have dropped (or the timeout passed). `workers` is read at each message, so it follows restarts.
 */
export function relayInvalidations(workers: () => Iterable<Worker>, from: Worker): void {
  from.on("message", (m: unknown) => {
    if (!isBusMessage(m) || m.type !== "protodepot:invalidate") return;
    const others = [...workers()].filter((w) => w !== from && w.isConnected());
    const acks = others.map(
      (w) =>
        new Promise<void>((resolve) => {
          const id = ++relayed;
          const timer = setTimeout(done, ackTimeoutMs);
          timer.unref();
          function done() {
            clearTimeout(timer);
            w.off("message", onAck);
            w.off("exit", done);
            resolve();
          }
          function onAck(a: unknown) {
            if (isBusMessage(a) && a.type === "protodepot:dropped" && a.id === id) done();
          }
          w.on("message", onAck);
          w.once("exit", done);
          w.send({ type: "protodepot:drop", id } satisfies BusMessage);
        }),
    );
    void Promise.all(acks).then(() => {
      if (from.isConnected()) from.send({ type: "protodepot:invalidated", id: m.id } satisfies BusMessage);
    });
  });
}
