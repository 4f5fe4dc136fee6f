// The audit log (docs/audit.md): one append-only event per state change, with who made it (user, token, bot),
// from where (address, user agent, the request id of the server's log lines) and what changed; failed sign-ins
// too, folded per client address and window so that nobody can fill the disk with them.
import { Code, RegistryError } from "../core/errors.js";
import { checkName } from "../core/names.js";
import type { AuditEvent } from "../core/types.js";
import type { AuditFilter, AuditStore } from "../storage/meta/metadata-store.js";
import type { AccessPolicy } from "./access.js";
import { type ClientInfo, type Principal, requireUser } from "./auth.js";
import { requireUnscoped } from "./scopes.js";

/** One state change, as a service describes it. */
export interface AuditChange {
  /** `module.create`, `label.move`, `token.revoke`, … (docs/audit.md lists them). */
  action: string;
  target: string;
  /** The owner the target belongs to: its organization's owners may read the event. */
  owner?: string;
  /** Plain data, stored as JSON. */
  before?: unknown;
  after?: unknown;
}

export interface AuditQuery {
  since?: string;
  actor?: string;
  owner?: string;
  action?: string;
  /** An event id: events appended before it (the next page). */
  before?: string;
  limit?: number;
}

export interface AuditTrail {
  /** The event a change by `principal` appends. */
  event(principal: Principal, change: AuditChange): Omit<AuditEvent, "id">;
  /** Appends the event of a change in the change's own transaction `tx` (nothing when the log is off). */
  appendIn(tx: Pick<AuditStore, "appendAudit">, principal: Principal, change: AuditChange): Promise<void>;
  /**
   * Appends the event of a change already made. A failed append never fails the change: the event goes to the
   * server's log instead, at error level.
   */
  record(principal: Principal, change: AuditChange): Promise<void>;
  /** A refused credential: the first from an address in a window is appended, the rest of the window as one count. */
  failedAuth(client: ClientInfo, reason: string): void;
  /** Admins read every event; anyone else names an owner they manage (`--owner`), and reads only its events. */
  list(principal: Principal, query: AuditQuery): Promise<AuditEvent[]>;
  /** Appends what failedAuth still holds and removes events past the retention. */
  flush(): Promise<void>;
}

export interface AuditLog {
  error(fields: object, message: string): void;
}

export interface AuditOptions {
  store: AuditStore;
  /** false: nothing is appended and reading the log is refused (config audit.enabled, docs/audit.md). */
  enabled?: boolean;
  access: Pick<AccessPolicy, "requireManage">;
  log?: AuditLog;
  /** Events older than this many days are pruned (at most once an hour); 0 keeps them forever. */
  retentionDays: number;
  /** Failed sign-ins of one address are folded into one event per window. */
  failureWindowMs?: number;
  /** Addresses tracked per window; failures from further ones are folded into one event for address "*". */
  maxFailureAddresses?: number;
  now?: () => number;
}

export const maxAuditPage = 1000;
const defaultAuditPage = 100;
const pruneIntervalMs = 60 * 60 * 1000;
const dayMs = 24 * 60 * 60 * 1000;

const json = (value: unknown): string | undefined =>
  value === undefined ? undefined : JSON.stringify(value);

interface FailureBucket {
  windowStart: number;
  client: ClientInfo;
  reason: string;
  /** Failures after the first one, not yet appended. */
  folded: number;
}

/** The event of a change made by `principal`, at `atMs`. */
function eventAt(atMs: number, principal: Principal, change: AuditChange): Omit<AuditEvent, "id"> {
  const user = principal.user;
  const before = json(change.before);
  const after = json(change.after);
  return {
    at: new Date(atMs).toISOString(),
    action: change.action,
    actor: user?.name ?? "",
    ...(user ? { actorId: user.id } : {}),
    ...(principal.tokenId ? { tokenId: principal.tokenId } : {}),
    ...(user?.botOf ? { bot: true } : {}),
    ...(change.owner ? { owner: change.owner } : {}),
    target: change.target,
    ...(before !== undefined ? { before } : {}),
    ...(after !== undefined ? { after } : {}),
    ...clientFields(principal.client ?? {}),
    count: 1,
  };
}

/**
 * Counts a failed sign-in: folded into its address's bucket of this window (undefined is returned), or the first
 * of a new window (its bucket, and the bucket it replaces, whose folded count is still to be appended).
 */
function foldFailure(
  failures: Map<string, FailureBucket>,
  limits: { windowMs: number; maxAddresses: number },
  at: number,
  client: ClientInfo,
  reason: string,
): { fresh: FailureBucket; previous: FailureBucket | undefined } | undefined {
  let key = client.address ?? "";
  let bucket = failures.get(key);
  if (bucket && at - bucket.windowStart >= limits.windowMs) bucket = undefined;
  if (!bucket && !failures.has(key) && failures.size >= limits.maxAddresses) {
    // Too many addresses this window: the rest share one bucket, so memory and events stay bounded.
    key = "*";
    bucket = failures.get(key);
  }
  if (bucket) {
    bucket.folded++;
    return undefined;
  }
  const fresh: FailureBucket = {
    windowStart: at,
    client: key === "*" ? { address: "*" } : client,
    reason,
    folded: 0,
  };
  // The previous window of this address ends here: its folded count is appended before the new first event.
  const previous = failures.get(key);
  failures.set(key, fresh);
  return { fresh, previous };
}

/** A page of events for an admin (all) or an owner of the organization named (its own); `settle` appends folded ones first. */
async function listEvents(
  opts: AuditOptions,
  principal: Principal,
  query: Parameters<AuditTrail["list"]>[1],
  settle: () => Promise<void>,
): Promise<AuditEvent[]> {
  const user = requireUser(principal, "reading the audit log");
  requireUnscoped(principal.scopes, "reading the audit log");
  const owner = query.owner ? checkName("owner", query.owner) : undefined;
  if (!user.isAdmin) {
    if (!owner) {
      throw new RegistryError(
        Code.PermissionDenied,
        "only admins read the whole audit log: name an organization you own (--owner)",
        { op: "read the audit log" },
      );
    }
    await opts.access.requireManage(principal, owner, "read the audit log");
  }
  await settle();
  const limit = Math.min(Math.max(query.limit ?? defaultAuditPage, 1), maxAuditPage);
  const filter: AuditFilter = {
    limit,
    ...(query.since ? { since: checkInstant(query.since) } : {}),
    ...(query.before ? { beforeId: query.before } : {}),
    ...(query.actor ? { actor: query.actor } : {}),
    ...(owner ? { owner } : {}),
    ...(query.action ? { action: query.action } : {}),
  };
  return opts.store.listAudit(filter);
}

/** Appends an event; a failure is logged, never thrown: the change it records has happened. */
async function appendOrLog(opts: AuditOptions, event: Omit<AuditEvent, "id">): Promise<void> {
  try {
    await opts.store.appendAudit(event);
  } catch (err) {
    opts.log?.error({ err, audit: event }, "audit event not recorded");
  }
}

/** One failed sign-in record: `count` failures of one client folded into one event. */
function failureEvent(at: number, bucket: FailureBucket, count: number): Omit<AuditEvent, "id"> {
  return {
    at: new Date(at).toISOString(),
    action: "auth.failed",
    actor: "",
    target: "sign-in",
    after: JSON.stringify({ reason: bucket.reason.slice(0, 256) }),
    ...clientFields(bucket.client),
    count,
  };
}

export function createAuditTrail(opts: AuditOptions): AuditTrail {
  const now = opts.now ?? Date.now;
  const windowMs = opts.failureWindowMs ?? 60_000;
  const maxAddresses = opts.maxFailureAddresses ?? 1000;
  const failures = new Map<string, FailureBucket>();
  let prunedAt = 0;
  // Failed sign-ins are appended in the background, one after another; flush() waits for them.
  let pending: Promise<void> = Promise.resolve();

  const append = (event: Omit<AuditEvent, "id">) => appendOrLog(opts, event);

  /** Appends the folded counts of windows that have ended (all of them with `all`). */
  const drain = async (all: boolean): Promise<void> => {
    const at = now();
    const ended: FailureBucket[] = [];
    for (const [key, bucket] of failures) {
      if (all || at - bucket.windowStart >= windowMs) {
        failures.delete(key);
        if (bucket.folded > 0) ended.push(bucket);
      }
    }
    for (const bucket of ended) await append(failureEvent(now(), bucket, bucket.folded));
  };

  const prune = async (): Promise<void> => {
    const at = now();
    if (opts.retentionDays <= 0 || at - prunedAt < pruneIntervalMs) return;
    prunedAt = at;
    try {
      await opts.store.pruneAudit(new Date(at - opts.retentionDays * dayMs).toISOString());
    } catch (err) {
      opts.log?.error({ err }, "audit log not pruned");
    }
  };

  if (opts.enabled === false) return disabledTrail(now);
  const trail: AuditTrail = {
    event: (principal, change) => eventAt(now(), principal, change),
    async appendIn(tx, principal, change) {
      await tx.appendAudit(trail.event(principal, change));
    },
    async record(principal, change) {
      await append(trail.event(principal, change));
      await prune();
    },
    failedAuth(client, reason) {
      const folded = foldFailure(failures, { windowMs, maxAddresses }, now(), client, reason);
      if (!folded) return;
      const { fresh, previous } = folded;
      pending = pending.then(async () => {
        if (previous && previous.folded > 0) await append(failureEvent(now(), previous, previous.folded));
        await append(failureEvent(now(), fresh, 1));
        await drain(false);
      });
    },
    async list(principal, query) {
      return listEvents(opts, principal, query, async () => {
        await pending;
        await drain(false);
      });
    },
    async flush() {
      await pending;
      await drain(true);
      prunedAt = 0;
      await prune();
    },
  };
  return trail;
}

/** audit.enabled: false — for throwaway servers and for measuring what the log costs (bench/push). */
function disabledTrail(now: () => number): AuditTrail {
  return {
    event: (principal, change) => eventAt(now(), principal, change),
    async appendIn() {},
    async record() {},
    failedAuth() {},
    async list() {
      throw new RegistryError(
        Code.FailedPrecondition,
        "the audit log is off on this server (audit.enabled: false): an admin turns it on in the server's config",
      );
    },
    async flush() {},
  };
}

function clientFields(client: ClientInfo): Pick<AuditEvent, "clientAddress" | "userAgent" | "requestId"> {
  return {
    ...(client.address ? { clientAddress: client.address } : {}),
    ...(client.userAgent ? { userAgent: client.userAgent } : {}),
    ...(client.requestId ? { requestId: client.requestId } : {}),
  };
}

function checkInstant(text: string): string {
  const at = Date.parse(text);
  if (Number.isNaN(at) || !/^\d{4}-\d{2}-\d{2}/.test(text)) {
    throw new RegistryError(
      Code.InvalidArgument,
      `invalid since "${text.slice(0, 64)}": use an RFC 3339 instant, e.g. 2026-01-31T00:00:00Z`,
    );
  }
  return new Date(at).toISOString();
}
