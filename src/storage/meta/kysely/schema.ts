// Table types of the metadata database, shared by every Kysely dialect (snake_case columns, ISO text timestamps).
import type { ColumnType } from "kysely";

/** 0 or 1: booleans are stored as integers so SQLite and Postgres read them the same way. */
export type IntBool = 0 | 1;

/** Postgres returns bigint columns as strings; read them through `Number()`. */
export type BigIntColumn = ColumnType<number | string, number, number>;

/** An admin's quotas for one owner; null: the configured default (migrations 0015, 0016). */
export interface OwnerQuotasTable {
  owner: string;
  max_modules: number | null;
  max_commits_per_day: number | null;
  /** Bigint: past 2 GiB; Postgres returns it as a string. */
  max_image_bytes: ColumnType<number | string | null, number | null | undefined, number | null>;
  max_images: ColumnType<number | null, number | null | undefined, number | null>;
  updated_at: string;
}

export interface OwnerPregenerateTable {
  owner: string;
  template_id: string;
  /** Order the user gave. */
  position: number;
}

export interface ModulePregenerateTable {
  module_id: string;
  template_id: string;
  /** Order the user gave. */
  position: number;
}

export interface UsersTable {
  id: string;
  name: string;
  is_admin: IntBool;
  created_at: string;
  /** A bot's organization; null for people (migration 0009). */
  bot_of: ColumnType<string | null, string | null | undefined, string | null>;
  deleted_at: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface TokensTable {
  id: string;
  user_id: string;
  hash: string;
  note: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
  /** Space-separated scopes; null: everything the user may (migration 0009). */
  scopes: ColumnType<string | null, string | null | undefined, string | null>;
}

/** Append-only: rows are inserted and, past the retention, deleted; never updated. */
export interface AuditEventsTable {
  id: string;
  at: string;
  action: string;
  actor: string;
  actor_id: string | null;
  token_id: string | null;
  bot: IntBool;
  owner: string | null;
  target: string;
  before_json: string | null;
  after_json: string | null;
  client_address: string | null;
  user_agent: string | null;
  request_id: string | null;
  count: number;
}

export interface OwnersTable {
  name: string;
  /** "user" or "organization". */
  kind: string;
  created_at: string;
}

export interface OrganizationsTable {
  id: string;
  name: string;
  created_at: string;
}

export interface OrgMembersTable {
  org_id: string;
  user_id: string;
  /** "owner", "writer" or "reader". */
  role: string;
  created_at: string;
  /** Null: given by hand; else the issuer whose group mapping granted the role (migration 0012). */
  granted_by: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface IdentitiesTable {
  issuer: string;
  subject: string;
  user_id: string;
  created_at: string;
  /** Migration 0017; null: no sign-in recorded since. */
  last_sign_in_at: string | null;
}

export interface ModulesTable {
  id: string;
  owner: string;
  name: string;
  visibility: string;
  default_label: string;
  /** The seq of the module's newest commit; incremented under a row lock to allocate the next one. */
  last_seq: number;
  created_at: string;
  description: ColumnType<string, string | undefined, string>;
  /** Null while not deprecated; else the deprecation message (possibly empty). */
  deprecation: ColumnType<string | null, string | null | undefined, string | null>;
  /** Null unless deleted: the row stays, quarantining the name. */
  deleted_at: ColumnType<string | null, string | null | undefined, string | null>;
  /** YYYY-MM-DD its artifacts were last served, coarse (migration 0011). */
  last_served_on: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface CommitsTable {
  id: string;
  module_id: string;
  seq: number;
  digest: string;
  /** Hex b5 digest; null until computed (commits from before migration 0006). */
  b5_digest: string | null;
  /** JSON array of the commit ids the b5 digest covers; null with b5_digest. */
  b5_deps: string | null;
  sources_blob: string;
  image_blob: string;
  created_by: string;
  created_at: string;
  /** The module's deprecation when the commit was pushed (null: not deprecated); never changes. */
  deprecation: ColumnType<string | null, string | null | undefined, never>;
}

export interface CommitFilesTable {
  commit_id: string;
  path: string;
  size: number;
  sha256: string;
}

export interface CommitDepsTable {
  commit_id: string;
  /** 0-based index in the commit's dependency list, which keeps dependency order. */
  position: number;
  dep_commit_id: string;
  direct: IntBool;
}

export interface LabelsTable {
  module_id: string;
  name: string;
  commit_id: string;
  updated_at: string;
  /** Set while archived: out of listings, still resolving. */
  archived_at: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface PluginsTable {
  id: string;
  owner: string;
  name: string;
  visibility: string;
  /** How many versions were created; allocates `plugin_versions.position` (creation order without clock ties). */
  version_count: number;
  created_at: string;
  /** Null while not deprecated; else the deprecation message (possibly empty). */
  deprecation: ColumnType<string | null, string | null | undefined, string | null>;
  /** Null unless deleted: the row stays, quarantining the name (migration 0011). */
  deleted_at: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface PluginVersionsTable {
  plugin_id: string;
  version: string;
  position: number;
  /** JSON text of PluginSource. */
  source: string;
  /** JSON text of RuntimeLibraries. */
  runtime_libraries: string;
  /** JSON text of a free-form object. */
  registry_options: string;
  created_at: string;
}

export interface TemplatesTable {
  id: string;
  owner: string;
  name: string;
  visibility: string;
  /** JSON text of TemplatePlugin[]. */
  plugins: string;
  /** The number of the newest version; incremented under a row lock to allocate the next one. */
  last_version: number;
  created_at: string;
  /** Null while not deprecated; else the deprecation message (possibly empty). */
  deprecation: ColumnType<string | null, string | null | undefined, string | null>;
  /** Null unless deleted: the row stays, quarantining the name (migration 0011). */
  deleted_at: ColumnType<string | null, string | null | undefined, string | null>;
  /** YYYY-MM-DD its artifacts were last served, coarse (migration 0011). */
  last_served_on: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface TemplateVersionsTable {
  template_id: string;
  number: number;
  /** JSON text of PinnedPlugin[]. */
  plugins: string;
  created_at: string;
  /** What consumers of the version were told when it was created (null: nothing); never changes. */
  deprecation: ColumnType<string | null, string | null | undefined, never>;
}

export interface ArtifactsTable {
  template_id: string;
  template_version: number;
  commit_id: string;
  scope: string;
  flavour: string;
  blob: string;
  digest: string;
  size: BigIntColumn;
  /** JSON text of Record<string, string>. */
  extra: string;
  created_at: string;
}

export interface LeasesTable {
  key: string;
  holder: string;
  token: BigIntColumn;
  /** Milliseconds since the epoch by the database clock; 0 once released. */
  expires_at: BigIntColumn;
}

export interface PushPoliciesTable {
  module_id: string;
  /** "" for the module's default. */
  label: string;
  breaking: string;
  breaking_category: string;
  lint: string;
  /** Comma-separated buf lint categories. */
  lint_categories: string;
  updated_at: string;
}

export interface WebhooksTable {
  id: string;
  /** null: every event of the server (an admin's subscription). */
  owner: string | null;
  url: string;
  secret: string;
  /** Space-separated kinds, or "*". */
  events: string;
  created_by: string;
  created_at: string;
  /** The secret before the last rotation, still signing until previous_secret_until (migration 0017). */
  previous_secret: string | null;
  /** Milliseconds since the epoch, by the database clock. */
  previous_secret_until: number | null;
  secret_rotated_at: string | null;
}

export interface WebhookDeliveriesTable {
  id: string;
  webhook_id: string;
  event_id: string;
  kind: string;
  body: string;
  created_at: string;
  /** pending, succeeded, failed */
  state: string;
  attempts: number;
  /** Milliseconds since the epoch by the database clock. */
  next_attempt_at: BigIntColumn;
  claimed_by: string | null;
  claim_expires_at: ColumnType<number | string | null, number | null, number | null>;
  last_status: number | null;
  last_error: string | null;
  last_latency_ms: number | null;
  finished_at: string | null;
}

export interface RateCountersTable {
  key: string;
  window_start: BigIntColumn;
  count: BigIntColumn;
}

export interface Database {
  users: UsersTable;
  tokens: TokensTable;
  owners: OwnersTable;
  organizations: OrganizationsTable;
  org_members: OrgMembersTable;
  modules: ModulesTable;
  commits: CommitsTable;
  commit_files: CommitFilesTable;
  commit_deps: CommitDepsTable;
  labels: LabelsTable;
  plugins: PluginsTable;
  plugin_versions: PluginVersionsTable;
  templates: TemplatesTable;
  template_versions: TemplateVersionsTable;
  artifacts: ArtifactsTable;
  module_pregenerate: ModulePregenerateTable;
  owner_pregenerate: OwnerPregenerateTable;
  owner_quotas: OwnerQuotasTable;
  leases: LeasesTable;
  push_policies: PushPoliciesTable;
  audit_events: AuditEventsTable;
  identities: IdentitiesTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  rate_counters: RateCountersTable;
}
