// The setup every node runs at start (the admin, built-in plugins and templates, the demo), one node at a time
// across everything that shares the metadata store: nodes of a rollout start together, and each must find the
// others' work done rather than race it (docs/architecture.md, rule "every node may start at any moment").
import { randomBytes } from "node:crypto";
import type { Lease, LeaseStore } from "../storage/meta/metadata-store.js";

/** The lease key of start-up setup; not a generation key, so it never collides with one. */
export const startupLeaseKey = "startup:setup";

export interface StartupLockOptions {
  /** How long the lease lasts without renewal: a node that dies holding it delays the others this long at most. */
  ttlMs?: number;
  /** This process's name in the lease (unique per process). */
  holder?: string;
  /** Tells when this node waits for another one's setup. */
  onWait?: () => void;
}

/**
 * Runs `work` while holding the start-up lease: waits while another node holds it, renews it while `work` runs
 * (a third of the TTL at a time), and releases it however `work` ends. The work itself stays idempotent (it
 * checks what exists before creating it): the lease makes nodes take turns, it is not what makes them correct.
 */
export async function withStartupLease<T>(
  leases: LeaseStore,
  work: () => Promise<T>,
  opts: StartupLockOptions = {},
): Promise<T> {
  const ttlMs = opts.ttlMs ?? 30_000;
  const holder = opts.holder ?? `startup-${process.pid}-${randomBytes(6).toString("hex")}`;
  let lease: Lease | undefined;
  let told = false;
  for (;;) {
    lease = await leases.acquireLease(startupLeaseKey, holder, ttlMs);
    if (lease) break;
    if (!told) opts.onWait?.();
    told = true;
    await leases.waitForLease(startupLeaseKey, ttlMs);
  }
  const held = lease;
  const renewal = setInterval(() => {
    // A lost renewal only means another node may start its setup beside ours; the work stays idempotent.
    leases.renewLease(held, ttlMs).catch(() => {});
  }, ttlMs / 3);
  renewal.unref();
  try {
    return await work();
  } finally {
    clearInterval(renewal);
    await leases.releaseLease(held).catch(() => false);
  }
}
