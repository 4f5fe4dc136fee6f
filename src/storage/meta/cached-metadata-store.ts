// A MetadataStore that remembers what cannot change and caches what can until the next write that may move it.
import { LRUCache } from "lru-cache";
import type { ArtifactKey } from "../../core/types.js";
import { createInvalidation, type Invalidation } from "./invalidation.js";
import type { MetadataStore, MetadataStores } from "./metadata-store.js";

export interface MetadataCacheOptions {
  /** Moved on by every write through this store; other processes (workers) share it through its bus. */
  invalidation?: Invalidation & { onDrop(fn: () => void): void };
  /**
   * The longest a mutable record (module, label, template, the template's versions, plugin) is reused. Every write
   * through this process or its bus drops them at once; the TTL only bounds what another node's writes take to show.
   * 0 turns this part off.
   */
  mutableTtlMs?: number;
  /** Bound on remembered immutable facts, counted in records (a list counts its length). */
  maxImmutable?: number;
}

type Method = keyof MetadataStore;

/**
 * Facts that never change once they exist: a commit by id or by (module, seq), its files and dependencies, a
 * template version, a plugin version, an artifact record by key (docs/architecture.md: a commit and an artifact, once visible, never change). Misses are not kept:
 * the thing may appear a moment later.
 */
const immutable: ReadonlySet<Method> = new Set<Method>([
  "getCommit",
  "getCommitBySeq",
  "listCommitFiles",
  "listCommitDeps",
  "getTemplateVersion",
  "getPluginVersion",
  "getArtifact",
]);

/** What labels, pushes, visibility changes and new template versions move: kept until any write, misses too. */
const mutable: ReadonlySet<Method> = new Set<Method>([
  "getModule",
  "getLabel",
  "listLabels",
  "getTemplate",
  "listTemplateVersions",
  "getPlugin",
  "getOwner",
  "getOrganization",
  // Memberships: the access policy still decides on every request, from the current record.
  "getMemberRole",
]);

/**
 * Writes that move nothing cached as mutable. Every other method not listed above counts as a write that may move
 * anything (a new visibility setter, a membership change): being wrong here would serve stale answers, being
 * conservative only costs a refill.
 */
const harmless: ReadonlySet<string> = new Set([
  "putArtifact",
  "createToken",
  // Tokens are never cached (revocation and expiry count at once); touching one moves nothing cached.
  "findToken",
  "touchToken",
  "listTokens",
  "getToken",
  "listOrganizations",
  "listMembers",
  "listDependents",
  "listDependencies",
  "getUserByName",
  "getUserById",
  "listUsers",
  "listModules",
  "listCommits",
  "listPlugins",
  "listPluginVersions",
  "listTemplates",
  "listArtifacts",
  "listPregenerate",
  "listOwnerPregenerate",
  // Read once per push, never on a download; new commits may appear under a prefix at any time.
  "getPushPolicy",
  "findCommitsByIdPrefix",
  // /healthz asks on every probe: a round trip, nothing cached.
  "ping",
  // Leases coordinate generations; they move nothing cached (their artifact record is written by putArtifact).
  "acquireLease",
  "renewLease",
  "releaseLease",
  "waitForLease",
  "countIdleLeases",
  "pruneLeases",
  "close",
]);

/** Arguments are ids, names and numbers, or one artifact key: a cheap, unambiguous string of them. */
const keyOf = (method: string, args: readonly unknown[]): string => {
  let key = method;
  for (const a of args) key += `\0${typeof a === "object" && a !== null ? JSON.stringify(a) : String(a)}`;
  return key;
};

/**
 * Every caller shares one cached object: frozen (with the records of a list), a caller that sorted or edited it in
 * place would throw instead of changing what the next request reads.
 */
function frozen<T>(value: T): T {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) for (const item of value) Object.freeze(item);
  return Object.freeze(value);
}

interface Box {
  value: unknown;
}

export function withMetadataCache(inner: MetadataStore, opts: MetadataCacheOptions = {}): MetadataStore {
  const invalidation = opts.invalidation ?? createInvalidation();
  const facts = new LRUCache<string, object>({
    maxSize: opts.maxImmutable ?? 100_000,
    sizeCalculation: (v) => (Array.isArray(v) ? v.length + 1 : 1),
  });
  const ttl = opts.mutableTtlMs ?? 2000;
  const moving = new LRUCache<string, Box>({ max: 10_000, ttl: Math.max(ttl, 1) });
  const inflight = new Map<string, Promise<unknown>>();
  // A load that started before a write must not store what it read: it checks the epoch before storing.
  invalidation.onDrop(() => {
    moving.clear();
    for (const key of inflight.keys()) if (key.startsWith("m")) inflight.delete(key);
  });

  const shared = (key: string, load: () => Promise<unknown>): Promise<unknown> => {
    const pending = inflight.get(key);
    if (pending) return pending;
    const started = load();
    inflight.set(key, started);
    const forget = () => {
      if (inflight.get(key) === started) inflight.delete(key);
    };
    started.then(forget, forget);
    return started;
  };

  const readFact = (method: Method, call: () => Promise<unknown>, args: readonly unknown[]) => {
    const key = keyOf(method, args);
    const hit = facts.get(key);
    if (hit !== undefined) return Promise.resolve(hit);
    return shared(`i${key}`, async () => {
      const value = await call();
      if (value !== undefined && value !== null && typeof value === "object") facts.set(key, frozen(value));
      return value;
    });
  };

  const readMoving = (method: Method, call: () => Promise<unknown>, args: readonly unknown[]) => {
    const key = keyOf(method, args);
    const hit = moving.get(key);
    if (hit) return Promise.resolve(hit.value);
    const started = invalidation.epoch();
    return shared(`m${key}`, async () => {
      const value = await call();
      if (invalidation.epoch() === started && ttl > 0) moving.set(key, { value: frozen(value) });
      return value;
    });
  };

  const forgetArtifacts = (filter: Partial<ArtifactKey>) => {
    for (const key of facts.keys()) {
      if (!key.startsWith("getArtifact\0")) continue;
      const k = JSON.parse(key.slice("getArtifact\0".length)) as ArtifactKey;
      const matches = (Object.keys(filter) as (keyof ArtifactKey)[]).every((f) => filter[f] === k[f]);
      if (matches) facts.delete(key);
    }
  };

  /** Whether calling `prop` may move something cached: anything that is not a known read or a harmless call. */
  const isWrite = (prop: string) =>
    !immutable.has(prop as Method) && !mutable.has(prop as Method) && !harmless.has(prop);

  /**
   * A transaction's stores, noting whether any call in it was a write: only then does the transaction drop the
   * caches. An artifact's publication (a lease released, a record put) moves nothing cached, and every generation
   * does one; it must not empty every cache of every worker and node each time.
   */
  const noticingWrites = (tx: MetadataStores, wrote: (method: string, args: unknown[]) => void) =>
    new Proxy(tx, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof value !== "function" || typeof prop !== "string") return value;
        const fn = value as (...a: unknown[]) => unknown;
        if (!isWrite(prop)) return fn.bind(target);
        return (...args: unknown[]) => {
          wrote(prop, args);
          return fn.apply(target, args);
        };
      },
    });

  const afterWrites = async (writes: readonly (readonly [string, readonly unknown[]])[]) => {
    if (writes.length === 0) return;
    // Only here: no server path deletes artifacts; other workers keep their records until they restart.
    for (const [method, args] of writes)
      if (method === "deleteArtifacts") forgetArtifacts((args[0] ?? {}) as Partial<ArtifactKey>);
    // Even a failed write may have moved something (a transaction that committed before an error).
    await invalidation.invalidate();
  };

  const wrap = (target: MetadataStore, prop: string, value: (...a: unknown[]) => Promise<unknown>) => {
    const method = prop as Method;
    const call = (args: unknown[]) => value.apply(target, args);
    if (immutable.has(method)) return (...args: unknown[]) => readFact(method, () => call(args), args);
    if (mutable.has(method)) return (...args: unknown[]) => readMoving(method, () => call(args), args);
    if (harmless.has(prop)) return (...args: unknown[]) => call(args);
    if (prop === "transaction") {
      return async (fn: (tx: MetadataStores) => Promise<unknown>) => {
        const writes: [string, unknown[]][] = [];
        try {
          return await call([(tx: MetadataStores) => fn(noticingWrites(tx, (m, a) => writes.push([m, a])))]);
        } finally {
          await afterWrites(writes);
        }
      };
    }
    return async (...args: unknown[]) => {
      try {
        return await call(args);
      } finally {
        await afterWrites([[method, args]]);
      }
    };
  };
  // Built once per method: the hot path allocates no wrapper per call.
  const wrapped = new Map<string, unknown>();

  // A Proxy, so a method added to the store is a write (and drops the caches) until someone lists it above.
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== "function" || typeof prop !== "string") return value;
      let fn = wrapped.get(prop);
      if (!fn) {
        fn = wrap(target, prop, value as (...a: unknown[]) => Promise<unknown>);
        wrapped.set(prop, fn);
      }
      return fn;
    },
  });
}
