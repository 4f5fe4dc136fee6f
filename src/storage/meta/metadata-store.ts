// The metadata seam, as small stores: every driver (sqlite, postgres) implements them and passes metadata-store-suite.ts.
import type {
  ArtifactKey,
  ArtifactRecord,
  AuditEvent,
  B5,
  Commit,
  CommitDep,
  CommitFile,
  Label,
  Member,
  Module,
  Organization,
  Owner,
  Plugin,
  PluginVersion,
  PushPolicy,
  Role,
  Template,
  TemplateVersion,
  TokenRecord,
  User,
  Visibility,
  Webhook,
  WebhookDelivery,
} from "../../core/types.js";
import type { InvalidationBus } from "./invalidation.js";

export interface NewCommit {
  owner: string;
  module: string;
  /** Fresh 32-hex id chosen by the caller. */
  id: string;
  digest: string;
  b5?: B5;
  sourcesBlob: string;
  imageBlob: string;
  createdBy: string;
  files: CommitFile[];
  deps: Omit<CommitDep, "owner" | "module" | "seq">[];
  /** The label to move to the new commit (created if absent). */
  label: string;
}

export interface InsertCommitResult {
  commit: Commit;
  /** False when the label's head already had the same digest and dependencies: nothing was written. */
  created: boolean;
}

export type ArtifactFilter = Partial<ArtifactKey> & { commitIds?: readonly string[] };

export interface NewToken {
  userId: string;
  hash: string;
  note: string;
  /** ISO instant after which the token stops working; absent: never expires. */
  expiresAt?: string;
  /** Canonical scopes (services/scopes.ts); absent or empty: everything the user may. */
  scopes?: readonly string[];
}

export interface Page {
  limit: number;
  /** Return commits with seq strictly below this (newest-first paging). */
  beforeSeq?: number;
  /** Oldest first, with seq strictly above `afterSeq` (0 when absent). */
  oldestFirst?: boolean;
  afterSeq?: number;
  /** Only commits whose id starts with these lowercase hex digits. */
  idPrefix?: string;
}

/** Users and their API tokens. */
export interface UserStore {
  /** With `botOf`, a bot of that organization (which must exist). */
  createUser(input: { name: string; isAdmin: boolean; botOf?: string }): Promise<User>;
  getUserByName(name: string): Promise<User | undefined>;
  getUserById(id: string): Promise<User | undefined>;
  listUsers(): Promise<User[]>;
  createToken(input: NewToken): Promise<TokenRecord>;
  /** Looks a token up by the hex sha256 of its secret, revoked and expired ones included (the caller decides). */
  findToken(hash: string): Promise<{ token: TokenRecord; user: User } | undefined>;
  /** A user's tokens, oldest first. */
  listTokens(userId: string): Promise<TokenRecord[]>;
  getToken(id: string): Promise<TokenRecord | undefined>;
  /** False when there is no such token or it was already revoked. */
  revokeToken(id: string, at: string): Promise<boolean>;
  /** Removes a token's row (a closed web session leaves nothing behind); false when there is no such token. */
  deleteToken(id: string): Promise<boolean>;
  touchToken(id: string, at: string): Promise<void>;
  /** The bots of an organization that are not deleted, by name. */
  listBots(org: string): Promise<User[]>;
  /** Marks a bot deleted and revokes its live tokens, in one transaction; false when it was already deleted. */
  deleteBot(userId: string, at: string): Promise<boolean>;
}

/** A role a provider's group mapping granted (docs/sso.md). */
export interface MappedRole {
  orgId: string;
  org: string;
  role: Role;
}

/**
 * Accounts at OpenID Connect providers (issuer + subject) linked to users, and the organization roles a provider's
 * group mapping granted, kept apart from roles given by hand (which no mapping changes).
 */
/** A provider account linked to a user (docs/sso.md, "Linked accounts"). */
export interface LinkedIdentity {
  issuer: string;
  subject: string;
  linkedAt: string;
  lastSignInAt?: string;
}

export interface IdentityStore {
  /** The user linked to the provider's account, deleted or not. */
  findIdentity(issuer: string, subject: string): Promise<User | undefined>;
  /** Links the account to the user; AlreadyExists when the account is linked already. */
  linkIdentity(input: { issuer: string; subject: string; userId: string }): Promise<void>;
  /** The provider accounts linked to the user, by issuer and subject. */
  listIdentities(userId: string): Promise<LinkedIdentity[]>;
  /** Records a sign-in of the account now. */
  touchIdentity(issuer: string, subject: string): Promise<void>;
  /** Unlinks the account from the user; false when it was not linked to that user. */
  unlinkIdentity(userId: string, issuer: string, subject: string): Promise<boolean>;
  /** The roles `grantedBy` (an issuer) granted the user, by organization name. */
  listMappedRoles(userId: string, grantedBy: string): Promise<MappedRole[]>;
  /**
   * Gives the user `role` in the organization as granted by `grantedBy`, unless the user holds a role there given by
   * hand or by another issuer (then nothing changes, and the answer is false).
   */
  setMappedRole(orgId: string, userId: string, role: Role, grantedBy: string): Promise<boolean>;
  /** Removes the user's membership if `grantedBy` granted it; false otherwise. */
  removeMappedRole(orgId: string, userId: string, grantedBy: string): Promise<boolean>;
}

/** What an audit listing selects; newest first. */
export interface AuditFilter {
  /** Events at or after this ISO instant. */
  since?: string;
  /** Events strictly before this id (paging newest first). */
  beforeId?: string;
  actor?: string;
  owner?: string;
  action?: string;
  limit: number;
}

/** The audit log: appended to, listed, and pruned past its retention; an event is never changed. */
export interface AuditStore {
  appendAudit(event: Omit<AuditEvent, "id">): Promise<AuditEvent>;
  listAudit(filter: AuditFilter): Promise<AuditEvent[]>;
  /** Removes events before the ISO instant `before`; answers how many. */
  pruneAudit(before: string): Promise<number>;
}

/** Owner names (one namespace for users and organizations) and organization members. */
export interface OwnerStore {
  getOwner(name: string): Promise<Owner | undefined>;
  /** Claims the owner name and makes `ownerUserId` the organization's first member, role owner, in one transaction. */
  createOrganization(input: { name: string; ownerUserId: string }): Promise<Organization>;
  getOrganization(name: string): Promise<Organization | undefined>;
  /** All organizations, or those `memberUserId` belongs to, by name. */
  listOrganizations(memberUserId?: string): Promise<Organization[]>;
  /** Adds the member or changes its role. */
  setMember(orgId: string, userId: string, role: Role): Promise<void>;
  removeMember(orgId: string, userId: string): Promise<boolean>;
  /** By user name. */
  listMembers(orgId: string): Promise<Member[]>;
  getMemberRole(orgName: string, userId: string): Promise<Role | undefined>;
  /**
   * Deletes the organization, its memberships and subscriptions, and frees its name, in one transaction, unless it
   * owns a module, plugin, template or bot, even a deleted bot ("not-empty": then nothing changes).
   */
  deleteOrganization(name: string): Promise<"deleted" | "not-empty" | "missing">;
}

/** What an admin set for one owner; null follows the configured default, 0 means unlimited. */
export interface OwnerQuota {
  modules: number | null;
  commitsPerDay: number | null;
  /** Bytes of the owner's plugin images (migration 0016). */
  imageBytes: number | null;
  /** Image plugin versions (pushed tags) of the owner. */
  images: number | null;
}

/** Per-owner quotas, and the usage they bound. */
export interface QuotaStore {
  getQuota(owner: string): Promise<OwnerQuota | undefined>;
  setQuota(owner: string, quota: OwnerQuota): Promise<void>;
  /** Modules of the owner, deleted ones included (their names stay taken). */
  countModules(owner: string): Promise<number>;
  /** Commits stored under the owner's modules at or after `since` (ISO time). */
  countCommitsSince(owner: string, since: string): Promise<number>;
}

/** Modules, their commits, labels and visibility. */
export interface ModuleStore {
  /** A deleted module too (with `deletedAt`), so its name can answer 410. */
  getModule(owner: string, name: string): Promise<Module | undefined>;
  /** All modules, or those of one owner, ordered by owner then name; deleted ones are left out. */
  listModules(owner?: string): Promise<Module[]>;
  /** AlreadyExists when the module exists; Gone when it was deleted (until releaseName frees the name). */
  createModule(input: {
    owner: string;
    name: string;
    visibility: Visibility;
    defaultLabel: string;
  }): Promise<Module>;
  setVisibility(kind: "module" | "plugin" | "template", id: string, visibility: Visibility): Promise<void>;
  /** Deprecates a plugin or template with a message (possibly empty), or undeprecates it (null). */
  setDeprecation(kind: "plugin" | "template", id: string, deprecation: string | null): Promise<void>;
  /** Changes only the settings given; `deprecation: null` undeprecates. */
  updateModule(id: string, change: ModuleChange): Promise<void>;
  /**
   * Removes a module that has no commits (a first push refused after buf's CreateModules), so a refused push leaves
   * nothing behind; false when it has commits by now (a concurrent push won) or is gone.
   */
  deleteEmptyModule(id: string): Promise<boolean>;
  /**
   * Marks the module deleted, keeping its rows and bytes (nothing installed changes; its name answers 410 and is
   * quarantined), unless a commit of another (not deleted) module depends on one of its commits: checked in the same
   * transaction, so a push pinning it cannot slip in between.
   */
  deleteModule(id: string): Promise<"deleted" | "has-dependents" | "missing">;
  /** Modules with at least one commit that depends on a commit of this module, by owner and name. */
  listDependents(moduleId: string): Promise<Module[]>;
  /** Modules that at least one commit of this module depends on (directly or transitively), by owner and name. */
  listDependencies(moduleId: string): Promise<Module[]>;
  /**
   * In one transaction: creates the module if absent (default label = `label`); when a commit of the module
   * has the same digest and deps (the label's head first), points the label at it and returns it with
   * `created: false`; otherwise allocates the next seq, inserts the commit, its files and deps, and moves the label.
   */
  insertCommit(input: NewCommit, visibility?: Visibility): Promise<InsertCommitResult>;
  getCommit(id: string): Promise<Commit | undefined>;
  /** Records a commit's b5 digest (computed later for commits stored before b5); the first one recorded stays. */
  setCommitB5(commitId: string, b5: B5): Promise<void>;
  getModuleById(id: string): Promise<Module | undefined>;
  getCommitBySeq(moduleId: string, seq: number): Promise<Commit | undefined>;
  /** The policy for pushes to `label`: the label's own, else the module's default (label ""), else none. */
  getPushPolicy(moduleId: string, label: string): Promise<(PushPolicy & { label: string }) | undefined>;
  /** Sets the module's default policy (label "") or one label's. */
  setPushPolicy(moduleId: string, label: string, policy: PushPolicy): Promise<void>;
  /** Commits of the module whose id starts with `prefix` (lowercase hex), at most `limit`, newest first. */
  findCommitsByIdPrefix(moduleId: string, prefix: string, limit: number): Promise<Commit[]>;
  /** Newest first. */
  listCommits(moduleId: string, page: Page): Promise<Commit[]>;
  listCommitFiles(commitId: string): Promise<CommitFile[]>;
  /** In the order they were inserted (dependency order). */
  listCommitDeps(commitId: string): Promise<CommitDep[]>;
  getLabel(moduleId: string, name: string): Promise<Label | undefined>;
  listLabels(moduleId: string): Promise<Label[]>;
  /** `mode: "create"` fails with AlreadyExists if present; `"move"` fails with NotFound if absent; `"upsert"` does either. */
  setLabel(
    moduleId: string,
    name: string,
    commitId: string,
    mode: "create" | "move" | "upsert",
  ): Promise<Label>;
  /**
   * Archives (out of listings, still resolving) or unarchives a label; setLabel and pushes unarchive it too.
   * Undefined when the module has no such label.
   */
  setLabelArchived(moduleId: string, name: string, archived: boolean): Promise<Label | undefined>;
}

/** The settings updateModule changes. */
export interface ModuleChange {
  description?: string;
  defaultLabel?: string;
  /** A message (possibly empty) deprecates; null undeprecates. */
  deprecation?: string | null;
}

/** Plugins and their versions. */
export interface PluginStore {
  /** AlreadyExists when the plugin exists; Gone when it was deleted (until releaseName frees the name). */
  createPlugin(input: { owner: string; name: string; visibility: Visibility }): Promise<Plugin>;
  /** A deleted plugin too (with `deletedAt`), so its name can answer 410. */
  getPlugin(owner: string, name: string): Promise<Plugin | undefined>;
  /** Deleted ones are left out. */
  listPlugins(owner?: string): Promise<Plugin[]>;
  /** Gone when the plugin was deleted. */
  createPluginVersion(input: Omit<PluginVersion, "pluginId" | "createdAt">): Promise<PluginVersion>;
  getPluginVersion(owner: string, name: string, version: string): Promise<PluginVersion | undefined>;
  /** In creation order. */
  listPluginVersions(owner: string, name: string): Promise<PluginVersion[]>;
}

/** Templates and their versions. */
export interface TemplateStore {
  /** AlreadyExists when the template exists; Gone when it was deleted (until releaseName frees the name). */
  createTemplate(input: Omit<Template, "id" | "createdAt" | "deletedAt" | "lastServedOn">): Promise<Template>;
  /** A deleted template too (with `deletedAt`), so its name can answer 410. */
  getTemplate(owner: string, name: string): Promise<Template | undefined>;
  /** Deleted ones are left out. */
  listTemplates(owner?: string): Promise<Template[]>;
  /**
   * Allocates the next number (1, 2, …) in one transaction; Gone when the template was deleted. `deprecation` is
   * what its consumers are told, kept with the version for good (TemplateVersion.deprecation).
   */
  createTemplateVersion(
    templateId: string,
    plugins: TemplateVersion["plugins"],
    deprecation?: string,
  ): Promise<TemplateVersion>;
  getTemplateVersion(templateId: string, number: number): Promise<TemplateVersion | undefined>;
  /** Ascending by number. */
  listTemplateVersions(templateId: string): Promise<TemplateVersion[]>;
}

/** Pre-generation: templates whose artifacts are generated right after each push of a module. */
export interface PregenerateStore {
  /** Replaces the module's list (in the given order); an empty list unsubscribes. */
  setPregenerate(moduleId: string, templateIds: readonly string[]): Promise<void>;
  /** The module's subscribed templates, in the order they were given. */
  listPregenerate(moduleId: string): Promise<Template[]>;
  /** Replaces the owner's list: templates pre-generated for every module of the owner. */
  setOwnerPregenerate(owner: string, templateIds: readonly string[]): Promise<void>;
  listOwnerPregenerate(owner: string): Promise<Template[]>;
}

/** Artifacts: (template version, commit, scope, flavour) → packaged blob. */
export interface ArtifactStore {
  getArtifact(key: ArtifactKey): Promise<ArtifactRecord | undefined>;
  /** Idempotent: if the key exists the existing record is returned (first writer wins). */
  putArtifact(record: Omit<ArtifactRecord, "createdAt">): Promise<ArtifactRecord>;
  /**
   * Artifact records matching every given field of the filter; `commitIds` matches any of them, in one query
   * (a listing over a module's commits costs one round trip, whatever the number of commits).
   */
  listArtifacts(filter: ArtifactFilter): Promise<ArtifactRecord[]>;
  deleteArtifacts(filter: Partial<ArtifactKey>): Promise<number>;
}

/** A node's claim on one key, valid until the database clock passes its expiry. */
export interface Lease {
  key: string;
  /** Who holds it: unique per process (and per store), so two nodes never mistake each other's lease. */
  holder: string;
  /** Fencing token: higher than every earlier lease on the key; a release or publish checks it. */
  token: number;
}

/** Leases that let one node at a time do the work for a key (docs/architecture.md, rule "One generation per artifact at a time", across nodes). */
export interface LeaseStore {
  /** Takes the lease on `key` for `ttlMs` when it is free, released or expired; undefined while another holds it. */
  acquireLease(key: string, holder: string, ttlMs: number): Promise<Lease | undefined>;
  /** Extends a lease this holder still holds; false when it expired and someone else took it. */
  renewLease(lease: Lease, ttlMs: number): Promise<boolean>;
  /**
   * Ends a lease this holder still holds and wakes the waiters on its key; false when it had been lost. Called in
   * `transaction()` with the write it guards, it is the fence: a lost lease rolls that write back.
   */
  releaseLease(lease: Lease): Promise<boolean>;
  /**
   * Resolves when a lease on `key` may have been released: at a notification where the database sends them
   * (postgres), else after a poll interval, and at the latest after `timeoutMs`. Rejects when `signal` aborts.
   */
  waitForLease(key: string, timeoutMs: number, signal?: AbortSignal): Promise<void>;
  /**
   * Rows of leases nobody holds: expired for longer than `expiredForMs`, or released (rows written before releases
   * removed their row). What a crash left behind; `fsck` reports and prunes them.
   */
  countIdleLeases(expiredForMs: number): Promise<number>;
  /** Removes the rows `countIdleLeases` counts; answers how many. */
  pruneLeases(expiredForMs: number): Promise<number>;
}

/** What a thing's deletion checks and leaves behind (docs/lifecycle.md, "Deletion"). */
export interface DeletionStore {
  /**
   * Marks the plugin deleted (its rows and versions stay), unless a template that is not deleted runs it or has a
   * version pinning it: checked in the same transaction as the mark.
   */
  deletePlugin(id: string): Promise<"deleted" | "has-dependents" | "missing">;
  /** Templates (not deleted) that run the plugin or have a version pinning it, by owner and name. */
  listPluginUsers(owner: string, name: string): Promise<Template[]>;
  /**
   * Marks the template deleted (its rows, versions and artifacts stay), unless a module (not deleted) or an owner
   * pre-generates with it: checked in the same transaction as the mark.
   */
  deleteTemplate(id: string): Promise<"deleted" | "has-dependents" | "missing">;
  /** The modules (not deleted) and owners whose pre-generation lists name the template. */
  listTemplateSubscribers(templateId: string): Promise<{ modules: Module[]; owners: string[] }>;
  /**
   * Moves a deleted thing's row out of its name's way (renamed to `{name}~{id}`, which no name rule accepts), so the
   * name may be taken again once its quarantine ended; false when the row is not deleted (nothing changes).
   */
  releaseName(kind: "module" | "plugin" | "template", id: string): Promise<boolean>;
  /**
   * Records that artifacts of these commits' modules and of these templates were served on `day` (YYYY-MM-DD); a
   * later day already recorded stays. One statement per kind, whatever the number of ids.
   */
  recordServed(
    day: string,
    served: { commitIds: readonly string[]; templateIds: readonly string[] },
  ): Promise<void>;
}

/** An event as the outbox takes it: one delivery per subscription that wants it. */
export interface WebhookEvent {
  id: string;
  kind: string;
  /** Subscriptions of this owner get it, and the server-wide ones. */
  owner?: string;
  body: string;
  at: string;
}

/** A delivery one node claimed, with what sending it needs. */
export interface ClaimedDelivery extends WebhookDelivery {
  url: string;
  secret: string;
  /** The secret a rotation replaced, while its grace period lasts (database clock): it signs too. */
  previousSecret?: string;
}

/** How one attempt ended. */
export interface DeliveryOutcome {
  ok: boolean;
  status?: number;
  error?: string;
  latencyMs: number;
  /** Try again after this long; absent: no more tries (done, or failed for good). */
  retryInMs?: number;
}

/** Webhook subscriptions and their deliveries: the outbox of events (docs/webhooks.md). */
export interface WebhookStore {
  createWebhook(hook: Omit<Webhook, "createdAt"> & { secret: string }): Promise<Webhook>;
  getWebhook(id: string): Promise<Webhook | undefined>;
  /** Subscriptions of one owner; `null`: the server-wide ones; absent: all. */
  listWebhooks(owner?: string | null): Promise<Webhook[]>;
  /** Removes a subscription and its deliveries; false when there was none. */
  deleteWebhook(id: string): Promise<boolean>;
  /**
   * Replaces the secret; the replaced one keeps signing for `graceMs` (database clock; 0: not at all). A rotation
   * within a grace period drops the secret before it. Answers the subscription, or undefined when there is none.
   */
  rotateWebhookSecret(id: string, secret: string, graceMs: number): Promise<Webhook | undefined>;
  /**
   * Writes one pending delivery per subscription the event matches (its owner's and the server-wide ones, by kind);
   * answers how many. Called in the change's transaction, it is the outbox: the event commits with the change.
   */
  enqueueWebhookEvent(event: WebhookEvent): Promise<number>;
  /**
   * Claims up to `limit` due deliveries for `holder` until `leaseMs` passes (database clock), counting one attempt
   * each. Two nodes never claim one delivery at once: the claim is one conditional UPDATE.
   */
  claimWebhookDeliveries(holder: string, limit: number, leaseMs: number): Promise<ClaimedDelivery[]>;
  /** Records an attempt of a delivery `holder` still claims; false when its claim was lost. */
  finishWebhookDelivery(id: string, holder: string, outcome: DeliveryOutcome): Promise<boolean>;
  /** Deliveries of one subscription, newest first. */
  listWebhookDeliveries(webhookId: string, limit: number): Promise<WebhookDelivery[]>;
  getWebhookDelivery(id: string): Promise<WebhookDelivery | undefined>;
  /** A new pending delivery of the same event to the same subscription (the old one stays as it was). */
  redeliverWebhook(deliveryId: string): Promise<WebhookDelivery | undefined>;
  /** Removes finished (succeeded or failed) deliveries created before `before` (ISO time); answers how many. */
  pruneWebhookDeliveries(before: string): Promise<number>;
}

/** Fixed-window request counters shared by every node (docs/tokens.md, "Rate limits"). */
export interface RateCounterStore {
  /** Adds `n` to the counter of `key` in the window starting at `windowStart`; answers its new total. */
  addRateCount(key: string, windowStart: number, n: number): Promise<number>;
  /** Removes the counters of windows that started before `windowStart`; answers how many. */
  pruneRateCounts(windowStart: number): Promise<number>;
}

/** Every store over one connection (or one transaction). */
export interface MetadataStores
  extends UserStore,
    DeletionStore,
    OwnerStore,
    ModuleStore,
    PluginStore,
    TemplateStore,
    ArtifactStore,
    PregenerateStore,
    LeaseStore,
    AuditStore,
    QuotaStore,
    IdentityStore,
    WebhookStore,
    RateCounterStore {}

/**
 * The metadata seam: the small stores above, composed over one database, with a transaction that spans them.
 * Callers keep the flat surface (`meta.getModule(…)`); a driver only supplies the database.
 */
export interface MetadataStore extends MetadataStores {
  /**
   * Runs `fn` in one transaction across every store: all of its writes commit together or none do. Inside, use only
   * `tx` (on SQLite the transaction holds the one connection, so a call on the outer store would wait forever).
   */
  transaction<T>(fn: (tx: MetadataStores) => Promise<T>): Promise<T>;
  /** One round trip to the database: throws when it cannot be reached (health checks). */
  ping(): Promise<void>;
  close(): Promise<void>;
  /**
   * The other processes sharing this database (other nodes on PostgreSQL): how they hear of this process's writes,
   * and it of theirs, so their caches drop at once instead of at their TTL. Absent for an embedded database.
   */
  readonly peers?: InvalidationBus;
}
