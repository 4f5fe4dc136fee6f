// One LISTEN connection per process: lease releases and metadata writes on any node reach this one at once.
import pg from "pg";

/** A lease was released; the payload is its key. */
export const leaseChannel = "protodepot_leases";
/** Mutable metadata moved; the payload is the writer's process id (listener.id), so nobody drops on its own note. */
export const invalidationChannel = "protodepot_invalidations";
const reconnectMs = 1000;

export interface Listener {
  /** This process's id in invalidation notes. */
  readonly id: string;
  /** Resolves at the next notification for `key`; never rejects (an abort just stops the wait). */
  released(key: string, signal: AbortSignal): Promise<void>;
  /** `drop` runs when another process notes a write. */
  onInvalidation(drop: () => void): void;
  close(): Promise<void>;
}

/** Resolves at the next wake of `key`, or at once when the signal aborts (the waiter then leaves the set). */
function waitFor(waiters: Map<string, Set<() => void>>, key: string, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    let set = waiters.get(key);
    if (!set) {
      set = new Set();
      waiters.set(key, set);
    }
    const done = () => {
      signal.removeEventListener("abort", done);
      const current = waiters.get(key);
      current?.delete(done);
      if (current?.size === 0) waiters.delete(key);
      resolve();
    };
    set.add(done);
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Keeps listening across connection losses: while it reconnects, lease waiters fall back to polling (a lost
 * notification delays a waiter by at most one poll interval and never loses a lease) and caches to their TTL (a
 * lost note shows another node's write at most `storage.meta.cacheTtlMs` late). A reconnect drops the caches
 * once, for the notes it may have missed.
 */
export async function createListener(url: string, id: string): Promise<Listener> {
  const waiters = new Map<string, Set<() => void>>();
  const drops: (() => void)[] = [];
  let client: pg.Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  let connectedBefore = false;

  const wake = (key: string) => {
    const set = waiters.get(key);
    if (!set) return;
    waiters.delete(key);
    for (const resolve of set) resolve();
  };
  const drop = () => {
    for (const fn of drops) fn();
  };

  async function connect(): Promise<void> {
    const c = new pg.Client({ connectionString: url });
    c.on("notification", (msg) => {
      if (msg.payload === undefined) return;
      if (msg.channel === leaseChannel) wake(msg.payload);
      else if (msg.channel === invalidationChannel && msg.payload !== id) drop();
    });
    c.on("error", () => {
      if (client === c) client = undefined;
      c.end().catch(() => {});
      schedule();
    });
    await c.connect();
    await c.query(`LISTEN ${leaseChannel}`);
    await c.query(`LISTEN ${invalidationChannel}`);
    client = c;
    if (connectedBefore) drop();
    connectedBefore = true;
  }

  function schedule(): void {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      connect().catch(() => schedule());
    }, reconnectMs);
    retry.unref();
  }

  await connect();

  return {
    id,
    released: (key, signal) => waitFor(waiters, key, signal),
    onInvalidation(fn) {
      drops.push(fn);
    },
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      const c = client;
      client = undefined;
      await c?.end();
    },
  };
}
