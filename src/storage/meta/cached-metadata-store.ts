// A MetadataStore that remembers what cannot change and caches what can until the next write that may move it.
import { type Cache, createCache } from "../../core/cache.js";
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

/** Every method of the store: the policy table below must name each, and only these. */
type Method = {
  [K in keyof MetadataStore]-?: MetadataStore[K] extends (...args: never[]) => unknown ? K : never;
}[keyof MetadataStore];

/**
 * How the cache treats a method:
 * - `immutable`: facts that never change once they exist (rules 1 and 2 of docs/architecture.md), kept until evicted.
 *   Misses are not kept: the thing may appear a moment later.
 * - `mutable`: what labels, pushes, visibility changes and new template versions move; kept until any write (the
 *   invalidation epoch) or the TTL, misses too.
 * - `harmless`: passed through uncached, and moves nothing cached (tokens, lists, leases, writes of nothing cached).
 * - `write`: may move anything cached: when it returns, every mutable cache of every worker and node is dropped.
 *   Wrongly calling a write harmless would serve stale answers; calling a read a write only costs a refill.
 * - `transaction`: a write only when a write ran inside it.
 */
export type CachePolicy = "immutable" | "mutable" | "harmless" | "write" | "transaction";

/**
 * One entry per method, checked by the compiler: a new store method is a compile error here until someone decides
 * what it is, and a misspelled one is an unknown key.
 */
export const metadataCachePolicies: { readonly [M in Method]: CachePolicy } = {
  // users and tokens: tokens are never cached (revocation and expiry count at once); touching one moves nothing
  createUser: "write",
  getUserByName: "harmless",
  getUserById: "harmless",
  listUsers: "harmless",
  createToken: "harmless",
  findToken: "harmless",
  listTokens: "harmless",
  getToken: "harmless",
  revokeToken: "write",
  deleteToken: "write",
  touchToken: "harmless",
  listBots: "harmless",
  deleteBot: "write",
  appendAudit: "harmless",
  listAudit: "harmless",
  pruneAudit: "harmless",
  // webhooks and rate counters are read where they are used, never from a cache; they move nothing cached
  createWebhook: "harmless",
  getWebhook: "harmless",
  listWebhooks: "harmless",
  deleteWebhook: "harmless",
  rotateWebhookSecret: "harmless",
  enqueueWebhookEvent: "harmless",
  claimWebhookDeliveries: "harmless",
  finishWebhookDelivery: "harmless",
  listWebhookDeliveries: "harmless",
  getWebhookDelivery: "harmless",
  redeliverWebhook: "harmless",
  pruneWebhookDeliveries: "harmless",
  addRateCount: "harmless",
  pruneRateCounts: "harmless",
  // owners and organizations; memberships: the access policy still decides on every request, from this record
  getOwner: "mutable",
  createOrganization: "write",
  deleteOrganization: "write",
  getOrganization: "mutable",
  listOrganizations: "harmless",
  setMember: "write",
  removeMember: "write",
  listMembers: "harmless",
  getMemberRole: "mutable",
  // provider accounts (read at sign-in only) and the roles group mappings grant (memberships: writes)
  findIdentity: "harmless",
  linkIdentity: "harmless",
  listIdentities: "harmless",
  touchIdentity: "harmless",
  unlinkIdentity: "harmless",
  listMappedRoles: "harmless",
  setMappedRole: "write",
  removeMappedRole: "write",
  // modules, commits, labels
  getModule: "mutable",
  getModuleById: "harmless",
  listModules: "harmless",
  createModule: "write",
  setVisibility: "write",
  setDeprecation: "write",
  updateModule: "write",
  deleteEmptyModule: "write",
  deleteModule: "write",
  // deletion: marks and renames move cached records; the served day is read only by a deletion's check
  deletePlugin: "write",
  listPluginUsers: "harmless",
  deleteTemplate: "write",
  listTemplateSubscribers: "harmless",
  releaseName: "write",
  recordServed: "harmless",
  listDependents: "harmless",
  listDependencies: "harmless",
  insertCommit: "write",
  getCommit: "immutable",
  getCommitBySeq: "immutable",
  // a commit stored before b5 digests existed gets one later (the first recorded stays)
  setCommitB5: "write",
  // read once per push, never on a download
  getPushPolicy: "harmless",
  setPushPolicy: "write",
  // new commits may appear under a prefix at any time
  findCommitsByIdPrefix: "harmless",
  listCommits: "harmless",
  listCommitFiles: "immutable",
  listCommitDeps: "immutable",
  getLabel: "mutable",
  listLabels: "mutable",
  setLabel: "write",
  setLabelArchived: "write",
  // plugins
  createPlugin: "write",
  getPlugin: "mutable",
  listPlugins: "harmless",
  createPluginVersion: "write",
  getPluginVersion: "immutable",
  listPluginVersions: "harmless",
  // templates
  createTemplate: "write",
  getTemplate: "mutable",
  listTemplates: "harmless",
  createTemplateVersion: "write",
  getTemplateVersion: "immutable",
  listTemplateVersions: "mutable",
  // pre-generation subscriptions
  setPregenerate: "write",
  listPregenerate: "harmless",
  setOwnerPregenerate: "write",
  listOwnerPregenerate: "harmless",
  // quotas are read once per creation or push, never on a download
  getQuota: "harmless",
  setQuota: "harmless",
  countModules: "harmless",
  countCommitsSince: "harmless",
  // artifacts: a record, once put, never changes; putting one moves nothing cached
  getArtifact: "immutable",
  putArtifact: "harmless",
  listArtifacts: "harmless",
  deleteArtifacts: "write",
  // leases coordinate generations and move nothing cached (their artifact record is written by putArtifact)
  acquireLease: "harmless",
  renewLease: "harmless",
  releaseLease: "harmless",
  waitForLease: "harmless",
  countIdleLeases: "harmless",
  pruneLeases: "harmless",
  transaction: "transaction",
  // /healthz asks on every probe: a round trip, nothing cached
  ping: "harmless",
  close: "harmless",
};

/** A method the table does not know (a driver's extra, reached through the Proxy) counts as a write. */
const policyOf = (prop: string): CachePolicy =>
  Object.hasOwn(metadataCachePolicies, prop) ? metadataCachePolicies[prop as Method] : "write";

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

/** Drops the kept artifact records that `filter` matches (what `deleteArtifacts` removed). */
const forgetArtifacts = (facts: Cache<object>, filter: Partial<ArtifactKey>) => {
  for (const key of facts.keys()) {
    if (!key.startsWith("getArtifact\0")) continue;
    const k = JSON.parse(key.slice("getArtifact\0".length)) as ArtifactKey;
    const matches = (Object.keys(filter) as (keyof ArtifactKey)[]).every((f) => filter[f] === k[f]);
    if (matches) facts.delete(key);
  }
};

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
      if (policyOf(prop) !== "write") return fn.bind(target);
      return (...args: unknown[]) => {
        wrote(prop, args);
        return fn.apply(target, args);
      };
    },
  });

export function withMetadataCache(inner: MetadataStore, opts: MetadataCacheOptions = {}): MetadataStore {
  const invalidation = opts.invalidation ?? createInvalidation();
  const facts = createCache<object>({
    bound: { maxSize: opts.maxImmutable ?? 100_000, sizeOf: (v) => (Array.isArray(v) ? v.length + 1 : 1) },
  });
  // The epoch makes what a write may have moved a miss, and keeps a load that started before it from storing.
  const moving = createCache<unknown>({
    bound: { maxEntries: 10_000 },
    ttlMs: opts.mutableTtlMs ?? 2000,
    epoch: () => invalidation.epoch(),
  });
  // Stale by epoch already; dropped at once so their memory goes too.
  invalidation.onDrop(() => moving.clear());

  const isObject = (value: unknown): value is object => typeof value === "object" && value !== null;

  const readFact = (method: Method, call: () => Promise<unknown>, args: readonly unknown[]) =>
    facts.load(keyOf(method, args), () => call().then(frozen), isObject);

  const readMoving = (method: Method, call: () => Promise<unknown>, args: readonly unknown[]) =>
    moving.load(keyOf(method, args), () => call().then(frozen));

  const afterWrites = async (writes: readonly (readonly [string, readonly unknown[]])[]) => {
    if (writes.length === 0) return;
    // Only here: no server path deletes artifacts; other workers keep their records until they restart.
    for (const [method, args] of writes)
      if (method === "deleteArtifacts") forgetArtifacts(facts, (args[0] ?? {}) as Partial<ArtifactKey>);
    // Even a failed write may have moved something (a transaction that committed before an error).
    await invalidation.invalidate();
  };

  const wrap = (target: MetadataStore, prop: string, value: (...a: unknown[]) => Promise<unknown>) => {
    const method = prop as Method;
    const call = (args: unknown[]) => value.apply(target, args);
    const policy = policyOf(prop);
    if (policy === "immutable") return (...args: unknown[]) => readFact(method, () => call(args), args);
    if (policy === "mutable") return (...args: unknown[]) => readMoving(method, () => call(args), args);
    if (policy === "harmless") return (...args: unknown[]) => call(args);
    if (policy === "transaction") {
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

  // A Proxy, so a method the table does not know (only possible past the compiler) is a write and drops the caches.
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
