// Domain records shared by storage, services and protocols. Plain data, no behaviour.

export type Visibility = "public" | "private";

export interface User {
  id: string;
  name: string;
  isAdmin: boolean;
  createdAt: string;
  /** For a bot (a service account): the organization it belongs to, whose owners manage its tokens. */
  botOf?: string;
  /** When a bot was deleted: its tokens are revoked and its name stays taken. */
  deletedAt?: string;
}

export interface TokenRecord {
  id: string;
  userId: string;
  /** hex sha256 of the secret; the secret itself is never stored. */
  hash: string;
  note: string;
  createdAt: string;
  /** After this instant the token no longer authenticates; absent for tokens that never expire. */
  expiresAt?: string;
  /** Set when revoked; a revoked token never authenticates again. */
  revokedAt?: string;
  /** Roughly when the token last authenticated a request (updated at most once a minute). */
  lastUsedAt?: string;
  /**
   * What the token may do (docs/tokens.md): `read`, or `write:OWNER` / `write:OWNER/MODULE` (each also reads);
   * absent: everything its user may.
   */
  scopes?: string[];
}

/** One append-only record of a state change or a failed sign-in (docs/audit.md). */
export interface AuditEvent {
  /** Sortable by when it was appended (a millisecond time, then a per-process sequence, then random). */
  id: string;
  at: string;
  /** `module.create`, `token.revoke`, `auth.failed`, …: the thing's kind, a dot, what happened. */
  action: string;
  /** The user who acted; empty for anonymous callers (a failed sign-in). */
  actor: string;
  actorId?: string;
  /** The token that authenticated the change. */
  tokenId?: string;
  /** True when the actor is a bot. */
  bot?: boolean;
  /** The owner the target belongs to, so an organization's owners read their organization's events. */
  owner?: string;
  /** What changed: `acme/payments`, `acme/payments:main`, `token 3f…`, `user walt`. */
  target: string;
  /** JSON of the state before and after, where it matters (visibility, a label's commit, a policy). */
  before?: string;
  after?: string;
  clientAddress?: string;
  userAgent?: string;
  /** The request id the server's log lines carry (`reqId`). */
  requestId?: string;
  /** Events folded into this one (failed sign-ins from one address in one window); 1 for every other event. */
  count: number;
}

/** A subscription of a URL to events (docs/webhooks.md). */
export interface Webhook {
  id: string;
  /** Whose events it receives; absent: every event of the server (an admin's). */
  owner?: string;
  url: string;
  /** Event kinds (`commit.pushed`, …), or `["*"]` for all. */
  events: string[];
  createdBy: string;
  createdAt: string;
  /** When the secret was last rotated. */
  secretRotatedAt?: string;
  /** Until when the secret replaced by that rotation still signs deliveries, beside the new one. */
  previousSecretUntil?: string;
}

export type WebhookDeliveryState = "pending" | "succeeded" | "failed";

/** One event sent (or to be sent) to one subscription, with the outcome of its last attempt. */
export interface WebhookDelivery {
  id: string;
  webhookId: string;
  eventId: string;
  kind: string;
  /** The JSON body every attempt sends. */
  body: string;
  createdAt: string;
  state: WebhookDeliveryState;
  attempts: number;
  lastStatus?: number;
  lastError?: string;
  lastLatencyMs?: number;
  finishedAt?: string;
}

/** Users and organizations share one namespace of owner names. */
export type OwnerKind = "user" | "organization";

export interface Owner {
  name: string;
  kind: OwnerKind;
}

export interface Organization {
  id: string;
  name: string;
  createdAt: string;
}

/**
 * What a member may do in an organization: `owner` manages it and its members, `writer` pushes modules and
 * creates plugins and templates, `reader` reads its private things. Each role includes the ones after it.
 */
export type Role = "owner" | "writer" | "reader";

export interface Member {
  user: User;
  role: Role;
}

export interface Module {
  id: string;
  owner: string;
  name: string;
  visibility: Visibility;
  defaultLabel: string;
  createdAt: string;
  /** Shown beside the module's name; absent when empty. */
  description?: string;
  /** Present while the module is deprecated: the message clients show (possibly empty). */
  deprecation?: string;
  /** Set once the module is deleted: its name answers 410 and stays quarantined (docs/lifecycle.md). */
  deletedAt?: string;
  /** YYYY-MM-DD its artifacts were last served (coarse: recorded at most once a day per node). */
  lastServedOn?: string;
}

export interface Commit {
  /** 32 random lowercase hex chars. */
  id: string;
  moduleId: string;
  owner: string;
  module: string;
  /** 1, 2, 3… per module, dense. */
  seq: number;
  /** `sha256:` + hex over the sorted file manifest. */
  digest: string;
  /** buf's b5 digest, and the commits it covers; absent on commits stored before b5 until first computed. */
  b5?: B5;
  /** Blob key of the deterministic .tar.gz of the pushed files. */
  sourcesBlob: string;
  /** Blob key of the FileDescriptorSet of the module's files and all transitive imports. */
  imageBlob: string;
  createdBy: string;
  createdAt: string;
  /**
   * The module's deprecation message when this commit was pushed (possibly empty), kept with the commit so what its
   * versions say never changes (Go reads it from the newest version's go.mod); absent when not deprecated then.
   */
  deprecation?: string;
}

/**
 * buf's b5 digest of a commit: hex of shake256 over buf's file set and the b5 digests of `deps`, the dependency
 * commits its imports reach (direct and transitive). buf checks every download against it, with `deps` as the
 * commit's edges in the graph.
 */
export interface B5 {
  digest: string;
  deps: string[];
}

export interface CommitFile {
  path: string;
  size: number;
  /** hex sha256 of the file content. */
  sha256: string;
}

export interface CommitDep {
  /** The dependency commit; every transitive dependency is pinned, in dependency order (deepest first). */
  commitId: string;
  owner: string;
  module: string;
  seq: number;
  /** True when named in the module's own buf.yaml. */
  direct: boolean;
}

export interface Label {
  moduleId: string;
  name: string;
  commitId: string;
  updatedAt: string;
  /** Set while archived: the label leaves listings and still resolves. */
  archivedAt?: string;
}

export interface Plugin {
  id: string;
  owner: string;
  name: string;
  visibility: Visibility;
  createdAt: string;
  /** Present while the plugin is deprecated: the message clients show (possibly empty). */
  deprecation?: string;
  /** Set once the plugin is deleted: its name answers 410 and stays quarantined (docs/lifecycle.md). */
  deletedAt?: string;
}

export interface GoRuntimeLibrary {
  module: string;
  version: string;
}

export interface NpmRuntimeLibrary {
  package: string;
  version: string;
}

/** A PyPI distribution and a PEP 440 version specifier: `protobuf`, `>=3.20`. */
export interface PythonRuntimeLibrary {
  package: string;
  version: string;
}

/** A Maven artifact: `com.google.protobuf`, `protobuf-java`, `3.21.12`. */
export interface MavenRuntimeLibrary {
  groupId: string;
  artifactId: string;
  version: string;
}

/** A gem and a RubyGems requirement: `google-protobuf`, `~> 3.21` (clauses joined by `, `). */
export interface RubyRuntimeLibrary {
  package: string;
  version: string;
}

/** A crates.io crate and a Cargo version requirement: `prost`, `0.11`. */
export interface RustRuntimeLibrary {
  crate: string;
  version: string;
}

export interface RuntimeLibraries {
  go?: GoRuntimeLibrary[];
  npm?: NpmRuntimeLibrary[];
  python?: PythonRuntimeLibrary[];
  maven?: MavenRuntimeLibrary[];
  ruby?: RubyRuntimeLibrary[];
  rust?: RustRuntimeLibrary[];
}

/** protoc's built-in generators (`--python_out`, `--java_out`, …) of protoc 3.21. */
export const protocGenerators = [
  "cpp",
  "csharp",
  "java",
  "kotlin",
  "objc",
  "php",
  "pyi",
  "python",
  "ruby",
] as const;
export type ProtocGenerator = (typeof protocGenerators)[number];

/** Where a plugin version's executable comes from. */
export type PluginSource =
  /** A command of the server's machine, registered by an admin. */
  | { kind: "host"; command: string[] }
  /** An image pushed to /v2/{owner}/{name}: the manifest (or index) digest its tag pointed at when pushed. */
  | { kind: "oci"; digest: string }
  /**
   * One of protoc's built-in generators, run by the server's protoc; `version` is that protoc's version when the
   * plugin version was registered (`3.21.12`), and a different protoc refuses to run it, since its bytes would differ.
   */
  | { kind: "protoc"; generator: ProtocGenerator; version: string };

export interface PluginVersion {
  pluginId: string;
  owner: string;
  name: string;
  /** semver with a leading v: `v2.2.0`, `v1.28.1-1`. */
  version: string;
  source: PluginSource;
  runtimeLibraries: RuntimeLibraries;
  /** Options for registries, e.g. `{ go: { minGoVersion: "1.21" } }`. Free-form JSON, validated by its reader. */
  registryOptions: Record<string, unknown>;
  createdAt: string;
}

/** What a push does with a finding: nothing, store the commit and report it, or refuse the push. */
export type PolicyAction = "off" | "warn" | "reject";
/** buf's breaking-change categories, strictest first. */
export const breakingCategories = ["FILE", "PACKAGE", "WIRE_JSON", "WIRE"] as const;
export type BreakingCategory = (typeof breakingCategories)[number];
/** buf's lint categories. */
export const lintCategories = ["MINIMAL", "BASIC", "STANDARD", "COMMENTS", "UNARY_RPC"] as const;
export type LintCategory = (typeof lintCategories)[number];

/** Checks a push runs against the stored images (buf breaking against the label's head, buf lint). */
export interface PushPolicy {
  breaking: PolicyAction;
  breakingCategory: BreakingCategory;
  lint: PolicyAction;
  lintCategories: LintCategory[];
}

export const defaultPushPolicy: PushPolicy = Object.freeze({
  breaking: "off",
  breakingCategory: "FILE",
  lint: "off",
  lintCategories: ["STANDARD"],
}) as PushPolicy;

export interface TemplatePlugin {
  owner: string;
  name: string;
  parameter: string;
}

export interface Template {
  id: string;
  owner: string;
  name: string;
  visibility: Visibility;
  plugins: TemplatePlugin[];
  createdAt: string;
  /** Present while the template is deprecated: the message clients show (possibly empty). */
  deprecation?: string;
  /** Set once the template is deleted: its name answers 410 and stays quarantined (docs/lifecycle.md). */
  deletedAt?: string;
  /** YYYY-MM-DD its artifacts were last served (coarse: recorded at most once a day per node). */
  lastServedOn?: string;
}

export interface PinnedPlugin {
  owner: string;
  name: string;
  version: string;
}

export interface TemplateVersion {
  templateId: string;
  /** 1, 2, 3… rendered `v1`, `v2`, … */
  number: number;
  /** One per template plugin, in the template's order. */
  plugins: PinnedPlugin[];
  createdAt: string;
  /**
   * What consumers of this version were told when it was created (the template or a pinned plugin deprecated),
   * kept with it so its go.mod never changes; absent when nothing was deprecated.
   */
  deprecation?: string;
}

/** What a generation covers: the module's files, plus its dependency modules, plus the well-known types. */
export type Scope = "module" | "imports" | "imports_wkt";

/** The registry an artifact is packaged for. */
/** `zip`: the archive registry's files as a .zip instead of a .tar.gz; `maven-sources`: a Maven jar's `-sources.jar`. */
export type Flavour =
  | "archive"
  | "go"
  | "npm"
  | "pypi"
  | "maven"
  | "maven-sources"
  | "rubygems"
  | "zip"
  | "cargo"
  | "cmake";

export interface ArtifactKey {
  templateId: string;
  templateVersion: number;
  commitId: string;
  scope: Scope;
  flavour: Flavour;
}

export interface ArtifactRecord extends ArtifactKey {
  /** Blob key of the packaged bytes. */
  blob: string;
  /** `sha256:` + hex of the packaged bytes. */
  digest: string;
  size: number;
  /** Extra facts a registry needs without reading the blob (e.g. npm sha512 integrity, go.mod blob key). */
  extra: Record<string, string>;
  createdAt: string;
}
