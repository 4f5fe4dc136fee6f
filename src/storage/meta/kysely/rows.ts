// Converts database rows to domain records: column names, 0/1 booleans and JSON text.
import type { Selectable } from "kysely";
import type {
  ArtifactRecord,
  Commit,
  Flavour,
  Label,
  Module,
  Organization,
  PinnedPlugin,
  Plugin,
  PluginSource,
  PluginVersion,
  RuntimeLibraries,
  Scope,
  Template,
  TemplatePlugin,
  TemplateVersion,
  TokenRecord,
  User,
  Visibility,
} from "../../../core/types.js";
import type {
  ArtifactsTable,
  CommitsTable,
  LabelsTable,
  ModulesTable,
  OrganizationsTable,
  PluginsTable,
  PluginVersionsTable,
  TemplatesTable,
  TemplateVersionsTable,
  TokensTable,
  UsersTable,
} from "./schema.js";

// JSON columns are written only by this store from typed values, so reading them back as those types is sound.
function parseJson<T>(text: string): T {
  return JSON.parse(text) as T;
}

export function toUser(
  r: Pick<UsersTable, "id" | "name" | "is_admin" | "created_at"> & {
    bot_of?: string | null;
    deleted_at?: string | null;
  },
): User {
  return {
    id: r.id,
    name: r.name,
    isAdmin: r.is_admin === 1,
    createdAt: r.created_at,
    ...(r.bot_of ? { botOf: r.bot_of } : {}),
    ...(r.deleted_at ? { deletedAt: r.deleted_at } : {}),
  };
}

export function toToken(r: Omit<TokensTable, "scopes"> & { scopes?: string | null }): TokenRecord {
  return {
    id: r.id,
    userId: r.user_id,
    hash: r.hash,
    note: r.note,
    createdAt: r.created_at,
    ...(r.expires_at ? { expiresAt: r.expires_at } : {}),
    ...(r.revoked_at ? { revokedAt: r.revoked_at } : {}),
    ...(r.last_used_at ? { lastUsedAt: r.last_used_at } : {}),
    ...(r.scopes ? { scopes: r.scopes.split(" ") } : {}),
  };
}

export function toOrganization(r: OrganizationsTable): Organization {
  return { id: r.id, name: r.name, createdAt: r.created_at };
}

/** A modules row as selected, or as just inserted (columns with defaults left out). */
type ModuleRow = Omit<
  Selectable<ModulesTable>,
  "description" | "deprecation" | "deleted_at" | "last_served_on"
> &
  Partial<Pick<Selectable<ModulesTable>, "description" | "deprecation" | "deleted_at" | "last_served_on">>;

export function toModule(r: ModuleRow): Module {
  return {
    id: r.id,
    owner: r.owner,
    name: r.name,
    visibility: r.visibility as Visibility,
    defaultLabel: r.default_label,
    createdAt: r.created_at,
    ...(r.description ? { description: r.description } : {}),
    ...(r.deprecation !== null && r.deprecation !== undefined ? { deprecation: r.deprecation } : {}),
    ...(r.deleted_at ? { deletedAt: r.deleted_at } : {}),
    ...(r.last_served_on ? { lastServedOn: r.last_served_on } : {}),
  };
}

/** A commits row joined with its module's owner and name. */
export type CommitRow = Omit<Selectable<CommitsTable>, "deprecation"> &
  Partial<Pick<Selectable<CommitsTable>, "deprecation">> & { owner: string; module_name: string };

export function toCommit(r: CommitRow): Commit {
  return {
    id: r.id,
    moduleId: r.module_id,
    owner: r.owner,
    module: r.module_name,
    seq: r.seq,
    digest: r.digest,
    ...(r.b5_digest !== null && r.b5_deps !== null
      ? { b5: { digest: r.b5_digest, deps: JSON.parse(r.b5_deps) as string[] } }
      : {}),
    sourcesBlob: r.sources_blob,
    imageBlob: r.image_blob,
    createdBy: r.created_by,
    createdAt: r.created_at,
    ...(r.deprecation !== null && r.deprecation !== undefined ? { deprecation: r.deprecation } : {}),
  };
}

/** A labels row as selected, or as just written (archived_at left out: not archived). */
type LabelRow = Omit<Selectable<LabelsTable>, "archived_at"> &
  Partial<Pick<Selectable<LabelsTable>, "archived_at">>;

export function toLabel(r: LabelRow): Label {
  return {
    moduleId: r.module_id,
    name: r.name,
    commitId: r.commit_id,
    updatedAt: r.updated_at,
    ...(r.archived_at ? { archivedAt: r.archived_at } : {}),
  };
}

/** A row as selected, or as just inserted (deprecation left out: not deprecated). */
type Deprecatable<T> = Omit<Selectable<T>, "deprecation"> & { deprecation?: string | null };

const deprecationOf = (r: { deprecation?: string | null | undefined }) =>
  r.deprecation !== null && r.deprecation !== undefined ? { deprecation: r.deprecation } : {};

/** A plugins row as selected, or as just inserted (deleted_at left out: not deleted). */
type PluginRow = Omit<Deprecatable<PluginsTable>, "deleted_at"> & { deleted_at?: string | null };

export function toPlugin(r: PluginRow): Plugin {
  return {
    id: r.id,
    owner: r.owner,
    name: r.name,
    visibility: r.visibility as Visibility,
    createdAt: r.created_at,
    ...deprecationOf(r),
    ...(r.deleted_at ? { deletedAt: r.deleted_at } : {}),
  };
}

/** A plugin_versions row joined with its plugin's owner and name. */
export type PluginVersionRow = PluginVersionsTable & { owner: string; name: string };

export function toPluginVersion(r: PluginVersionRow): PluginVersion {
  return {
    pluginId: r.plugin_id,
    owner: r.owner,
    name: r.name,
    version: r.version,
    source: parseJson<PluginSource>(r.source),
    runtimeLibraries: parseJson<RuntimeLibraries>(r.runtime_libraries),
    registryOptions: parseJson<Record<string, unknown>>(r.registry_options),
    createdAt: r.created_at,
  };
}

/** A templates row as selected, or as just inserted (deletion and serving left out). */
type TemplateRow = Omit<Deprecatable<TemplatesTable>, "deleted_at" | "last_served_on"> & {
  deleted_at?: string | null;
  last_served_on?: string | null;
};

export function toTemplate(r: TemplateRow): Template {
  return {
    id: r.id,
    owner: r.owner,
    name: r.name,
    visibility: r.visibility as Visibility,
    plugins: parseJson<TemplatePlugin[]>(r.plugins),
    createdAt: r.created_at,
    ...deprecationOf(r),
    ...(r.deleted_at ? { deletedAt: r.deleted_at } : {}),
    ...(r.last_served_on ? { lastServedOn: r.last_served_on } : {}),
  };
}

export function toTemplateVersion(r: Deprecatable<TemplateVersionsTable>): TemplateVersion {
  return {
    templateId: r.template_id,
    number: r.number,
    plugins: parseJson<PinnedPlugin[]>(r.plugins),
    createdAt: r.created_at,
    ...deprecationOf(r),
  };
}

/** An artifacts row as selected: `size` may come back as a string (Postgres bigint). */
export type ArtifactRow = Omit<ArtifactsTable, "size"> & { size: number | string };

export function toArtifact(r: ArtifactRow): ArtifactRecord {
  return {
    templateId: r.template_id,
    templateVersion: r.template_version,
    commitId: r.commit_id,
    scope: r.scope as Scope,
    flavour: r.flavour as Flavour,
    blob: r.blob,
    digest: r.digest,
    size: Number(r.size),
    extra: parseJson<Record<string, string>>(r.extra),
    createdAt: r.created_at,
  };
}
