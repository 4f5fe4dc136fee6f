// The metadata seam: every driver (sqlite now, postgres later) implements this and passes metadata-store-suite.ts.
import type {
  ArtifactKey,
  ArtifactRecord,
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
  Role,
  Template,
  TemplateVersion,
  TokenRecord,
  User,
  Visibility,
} from "../../core/types.js";

export interface NewCommit {
  owner: string;
  module: string;
  /** Fresh 32-hex id chosen by the caller. */
  id: string;
  digest: string;
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

export interface NewToken {
  userId: string;
  hash: string;
  note: string;
  /** ISO instant after which the token stops working; absent: never expires. */
  expiresAt?: string;
}

export interface Page {
  limit: number;
  /** Return commits with seq strictly below this (newest-first paging). */
  beforeSeq?: number;
}

export interface MetadataStore {
  // Users and tokens.
  createUser(input: { name: string; isAdmin: boolean }): Promise<User>;
  getUserByName(name: string): Promise<User | undefined>;
  getUserById(id: string): Promise<User | undefined>;
  listUsers(): Promise<User[]>;
  createToken(input: NewToken): Promise<TokenRecord>;
  /** Looks a token up by the hex sha256 of its secret, revoked and expired ones included (the caller decides). */
  findToken(hash: string): Promise<{ token: TokenRecord; user: User } | undefined>;
  /** A user's tokens, oldest first. */
  listTokens(userId: string): Promise<TokenRecord[]>;
  /** False when there is no such token or it was already revoked. */
  revokeToken(id: string, at: string): Promise<boolean>;
  touchToken(id: string, at: string): Promise<void>;

  // Owners (one namespace for users and organizations) and organization members.
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

  // Modules, commits, labels.
  getModule(owner: string, name: string): Promise<Module | undefined>;
  /** All modules, or those of one owner, ordered by owner then name. */
  listModules(owner?: string): Promise<Module[]>;
  /** AlreadyExists when the module exists. */
  createModule(input: {
    owner: string;
    name: string;
    visibility: Visibility;
    defaultLabel: string;
  }): Promise<Module>;
  setVisibility(kind: "module" | "plugin" | "template", id: string, visibility: Visibility): Promise<void>;
  /** Modules with at least one commit that depends on a commit of this module, by owner and name. */
  listDependents(moduleId: string): Promise<Module[]>;
  /** Modules that at least one commit of this module depends on (directly or transitively), by owner and name. */
  listDependencies(moduleId: string): Promise<Module[]>;
  /**
   * In one transaction: creates the module if absent (default label = `label`), compares the label's head
   * (digest and deps) and returns it unchanged when identical, otherwise allocates the next seq, inserts the
   * commit, its files and deps, and moves the label.
   */
  insertCommit(input: NewCommit, visibility?: Visibility): Promise<InsertCommitResult>;
  getCommit(id: string): Promise<Commit | undefined>;
  getCommitBySeq(moduleId: string, seq: number): Promise<Commit | undefined>;
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

  // Plugins.
  createPlugin(input: { owner: string; name: string; visibility: Visibility }): Promise<Plugin>;
  getPlugin(owner: string, name: string): Promise<Plugin | undefined>;
  listPlugins(owner?: string): Promise<Plugin[]>;
  createPluginVersion(input: Omit<PluginVersion, "pluginId" | "createdAt">): Promise<PluginVersion>;
  getPluginVersion(owner: string, name: string, version: string): Promise<PluginVersion | undefined>;
  /** In creation order. */
  listPluginVersions(owner: string, name: string): Promise<PluginVersion[]>;

  // Templates.
  createTemplate(input: Omit<Template, "id" | "createdAt">): Promise<Template>;
  getTemplate(owner: string, name: string): Promise<Template | undefined>;
  listTemplates(owner?: string): Promise<Template[]>;
  /** Allocates the next number (1, 2, …) in one transaction. */
  createTemplateVersion(templateId: string, plugins: TemplateVersion["plugins"]): Promise<TemplateVersion>;
  getTemplateVersion(templateId: string, number: number): Promise<TemplateVersion | undefined>;
  /** Ascending by number. */
  listTemplateVersions(templateId: string): Promise<TemplateVersion[]>;

  // Artifacts: (template version, commit, scope, flavour) → packaged blob.
  getArtifact(key: ArtifactKey): Promise<ArtifactRecord | undefined>;
  /** Idempotent: if the key exists the existing record is returned (first writer wins). */
  putArtifact(record: Omit<ArtifactRecord, "createdAt">): Promise<ArtifactRecord>;
  /** Artifact records matching every given field of the filter. */
  listArtifacts(filter: Partial<ArtifactKey>): Promise<ArtifactRecord[]>;
  deleteArtifacts(filter: Partial<ArtifactKey>): Promise<number>;

  close(): Promise<void>;
}
