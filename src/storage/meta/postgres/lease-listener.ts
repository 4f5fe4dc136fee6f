// One LISTEN connection per node: a lease released on any node wakes this node's waiters on that key at once.
import pg from "pg";

export const leaseChannel = "protodepot_leases";
const reconnectMs = 1000;

export interface LeaseListener {
  /** Resolves at the next notification for `key`; never rejects (an abort just stops the wait). */
  released(key: string, signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/**
 * Keeps listening across connection losses: while it reconnects, waiters fall back to polling, so a lost
 * notification delays a waiter by at most one poll interval and never loses a lease.
 */
export async function createLeaseListener(url: string): Promise<LeaseListener> {
  const waiters = new Map<string, Set<() => void>>();
  let client: pg.Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;

  const wake = (key: string) => {
    const set = waiters.get(key);
    if (!set) return;
    waiters.delete(key);
    for (const resolve of set) resolve();
  };

  async function connect(): Promise<void> {
    const c = new pg.Client({ connectionString: url });
    c.on("notification", (msg) => {
      if (msg.channel === leaseChannel && msg.payload !== undefined) wake(msg.payload);
    });
    c.on("error", () => {
      if (client === c) client = undefined;
      c.end().catch(() => {});
      schedule();
    });
    await c.connect();
    await c.query(`LISTEN ${leaseChannel}`);
    client = c;
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
    released(key, signal) {
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
