// Leases over Kysely: one row per key while it is held, expiry by the database clock, a token that only grows.
//
// A release deletes its row, so the table holds the keys being generated, not every key ever attempted; a new row's
// token starts at the database clock in milliseconds, above every token an earlier row of the key had (each row's
// token grows by one per takeover, far slower than the clock), so a stale holder's token never matches again.
import { type Kysely, type RawBuilder, sql } from "kysely";
import type { Lease, LeaseStore } from "../metadata-store.js";
import type { Database } from "./schema.js";

/** What differs between databases: their clock, and how (or whether) a release reaches other nodes. */
export interface LeaseDialect {
  /** The database's clock in milliseconds since the epoch, as an SQL expression. */
  nowMs: RawBuilder<number>;
  /** Tells other nodes that `key` was released (run inside the releasing transaction); absent = they poll. */
  notify?(db: Kysely<Database>, key: string): Promise<void>;
  /** Resolves at the next release notification for `key`; absent = no notifications. */
  released?(key: string, signal: AbortSignal): Promise<void>;
  /** How often a waiter looks again when no notification arrives. */
  pollMs: number;
}

export const sqliteClock = sql<number>`cast((julianday('now') - 2440587.5) * 86400000 as integer)`;
export const postgresClock = sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

async function acquireLease(
  db: Kysely<Database>,
  nowMs: RawBuilder<number>,
  key: string,
  holder: string,
  ttlMs: number,
): Promise<Lease | undefined> {
  const expires = sql<number>`${nowMs} + ${Math.ceil(ttlMs)}`;
  // One statement, so two nodes racing for a free key cannot both win: the insert or the conditional update.
  const row = await db
    .insertInto("leases")
    .values({ key, holder, token: nowMs, expires_at: expires })
    .onConflict((oc) =>
      oc
        .column("key")
        .doUpdateSet({ holder, token: sql`leases.token + 1`, expires_at: expires })
        .where("leases.expires_at", "<=", nowMs),
    )
    .returning(["token"])
    .executeTakeFirst();
  return row && { key, holder, token: Number(row.token) };
}

/** Waits for a release notification of `key` or one poll interval, whichever comes first. */
async function waitForLease(
  dialect: LeaseDialect,
  key: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  signal?.throwIfAborted();
  const done = new AbortController();
  const stop = () => done.abort(signal?.reason);
  signal?.addEventListener("abort", stop, { once: true });
  try {
    const waits = [sleep(Math.min(timeoutMs, dialect.pollMs), done.signal)];
    if (dialect.released) waits.push(dialect.released(key, done.signal));
    await Promise.race(waits);
  } finally {
    signal?.removeEventListener("abort", stop);
    // Ends the losing wait (its timer or its listener) without an unhandled rejection.
    done.abort();
  }
  signal?.throwIfAborted();
}

export function createKyselyLeaseStore(db: Kysely<Database>, dialect: LeaseDialect): LeaseStore {
  const { nowMs } = dialect;
  return {
    acquireLease: (key, holder, ttlMs) => acquireLease(db, nowMs, key, holder, ttlMs),

    async renewLease(lease: Lease, ttlMs: number): Promise<boolean> {
      const res = await db
        .updateTable("leases")
        .set({ expires_at: sql<number>`${nowMs} + ${Math.ceil(ttlMs)}` })
        .where("key", "=", lease.key)
        .where("holder", "=", lease.holder)
        .where("token", "=", lease.token)
        .where("expires_at", ">", 0)
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },

    async releaseLease(lease: Lease): Promise<boolean> {
      const res = await db
        .deleteFrom("leases")
        .where("key", "=", lease.key)
        .where("holder", "=", lease.holder)
        .where("token", "=", lease.token)
        .where("expires_at", ">", 0)
        .executeTakeFirst();
      const released = Number(res.numDeletedRows) === 1;
      if (released) await dialect.notify?.(db, lease.key);
      return released;
    },

    async countIdleLeases(expiredForMs: number): Promise<number> {
      const row = await db
        .selectFrom("leases")
        .select((eb) => eb.fn.countAll<number | string | bigint>().as("n"))
        .where("expires_at", "<=", sql<number>`${nowMs} - ${Math.ceil(expiredForMs)}`)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    async pruneLeases(expiredForMs: number): Promise<number> {
      const res = await db
        .deleteFrom("leases")
        .where("expires_at", "<=", sql<number>`${nowMs} - ${Math.ceil(expiredForMs)}`)
        .executeTakeFirst();
      return Number(res.numDeletedRows);
    },

    waitForLease: (key, timeoutMs, signal) => waitForLease(dialect, key, timeoutMs, signal),
  };
}
