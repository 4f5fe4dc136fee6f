// The MetadataStore written once over Kysely; a driver (sqlite, postgres) only constructs the Kysely instance.
import { randomBytes } from "node:crypto";
import type { Kysely, Transaction } from "kysely";
import { Code, RegistryError } from "../../../core/errors.js";
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
  OwnerKind,
  Plugin,
  PluginVersion,
  Role,
  Template,
  TemplateVersion,
  TokenRecord,
  User,
  Visibility,
} from "../../../core/types.js";
import type { InsertCommitResult, MetadataStore, NewCommit, NewToken, Page } from "../metadata-store.js";
import { migrateToLatest } from "../migrations/index.js";
import {
  toArtifact,
  toCommit,
  toLabel,
  toModule,
  toOrganization,
  toPlugin,
  toPluginVersion,
  toTemplate,
  toTemplateVersion,
  toToken,
  toUser,
} from "./rows.js";
import type { Database } from "./schema.js";
import { isForeignKeyViolation, isUniqueViolation } from "./sql-errors.js";

// Keeps multi-row inserts well under SQLite's bound-parameter limit (32766) and Postgres' (65535).
const insertChunkRows = 500;

const newId = (): string => randomBytes(16).toString("hex");
const now = (): string => new Date().toISOString();

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Runs migrations, then returns a store over `db`. `close()` destroys `db`. */
export async function createKyselyMetadataStore(db: Kysely<Database>): Promise<MetadataStore> {
  await migrateToLatest(db as unknown as Kysely<unknown>);
  return new KyselyMetadataStore(db);
}

function selectCommits(db: Kysely<Database>) {
  return db
    .selectFrom("commits as c")
    .innerJoin("modules as m", "m.id", "c.module_id")
    .selectAll("c")
    .select(["m.owner as owner", "m.name as module_name"]);
}

function selectPluginVersions(db: Kysely<Database>) {
  return db
    .selectFrom("plugin_versions as v")
    .innerJoin("plugins as p", "p.id", "v.plugin_id")
    .selectAll("v")
    .select(["p.owner as owner", "p.name as name"]);
}

/** Takes an owner name for a user or an organization; the one namespace is enforced by the owners' primary key. */
async function claimOwnerName(
  trx: Transaction<Database>,
  name: string,
  kind: OwnerKind,
  createdAt: string,
  op: string,
): Promise<void> {
  try {
    await trx.insertInto("owners").values({ name, kind, created_at: createdAt }).execute();
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw new RegistryError(
        Code.AlreadyExists,
        `owner name ${name} is already taken by a user or organization`,
        {
          op,
          owner: name,
        },
      );
    }
    throw err;
  }
}

class KyselyMetadataStore implements MetadataStore {
  private closed = false;

  constructor(private readonly db: Kysely<Database>) {}

  // Users and tokens.

  async createUser(input: { name: string; isAdmin: boolean }): Promise<User> {
    const row = {
      id: newId(),
      name: input.name,
      is_admin: input.isAdmin ? 1 : 0,
      created_at: now(),
    } as const;
    await this.db.transaction().execute(async (trx) => {
      await claimOwnerName(trx, input.name, "user", row.created_at, "createUser");
      await trx.insertInto("users").values(row).execute();
    });
    return toUser(row);
  }

  async getUserByName(name: string): Promise<User | undefined> {
    const row = await this.db.selectFrom("users").selectAll().where("name", "=", name).executeTakeFirst();
    return row && toUser(row);
  }

  async getUserById(id: string): Promise<User | undefined> {
    const row = await this.db.selectFrom("users").selectAll().where("id", "=", id).executeTakeFirst();
    return row && toUser(row);
  }

  async listUsers(): Promise<User[]> {
    const rows = await this.db.selectFrom("users").selectAll().orderBy("name").execute();
    return rows.map(toUser);
  }

  async createToken(input: NewToken): Promise<TokenRecord> {
    const row = {
      id: newId(),
      user_id: input.userId,
      hash: input.hash,
      note: input.note,
      created_at: now(),
      expires_at: input.expiresAt ?? null,
      revoked_at: null,
      last_used_at: null,
    };
    try {
      await this.db.insertInto("tokens").values(row).execute();
    } catch (err) {
      if (isForeignKeyViolation(err)) {
        throw new RegistryError(Code.NotFound, `user id ${input.userId} not found; create the user first`, {
          op: "createToken",
        });
      }
      if (isUniqueViolation(err)) {
        throw new RegistryError(
          Code.AlreadyExists,
          "a token with this secret already exists; generate a new one",
          {
            op: "createToken",
          },
        );
      }
      throw err;
    }
    return toToken(row);
  }

  async findToken(hash: string): Promise<{ token: TokenRecord; user: User } | undefined> {
    const row = await this.db
      .selectFrom("tokens as t")
      .innerJoin("users as u", "u.id", "t.user_id")
      .selectAll("t")
      .select(["u.name as user_name", "u.is_admin as user_is_admin", "u.created_at as user_created_at"])
      .where("t.hash", "=", hash)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      token: toToken(row),
      user: toUser({
        id: row.user_id,
        name: row.user_name,
        is_admin: row.user_is_admin,
        created_at: row.user_created_at,
      }),
    };
  }

  async listTokens(userId: string): Promise<TokenRecord[]> {
    const rows = await this.db
      .selectFrom("tokens")
      .selectAll()
      .where("user_id", "=", userId)
      .orderBy("created_at")
      .orderBy("id")
      .execute();
    return rows.map(toToken);
  }

  async revokeToken(id: string, at: string): Promise<boolean> {
    const result = await this.db
      .updateTable("tokens")
      .set({ revoked_at: at })
      .where("id", "=", id)
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async touchToken(id: string, at: string): Promise<void> {
    await this.db.updateTable("tokens").set({ last_used_at: at }).where("id", "=", id).execute();
  }

  // Owners and organizations.

  async getOwner(name: string): Promise<Owner | undefined> {
    const row = await this.db.selectFrom("owners").selectAll().where("name", "=", name).executeTakeFirst();
    return row && { name: row.name, kind: row.kind as OwnerKind };
  }

  async createOrganization(input: { name: string; ownerUserId: string }): Promise<Organization> {
    const row = { id: newId(), name: input.name, created_at: now() };
    await this.db.transaction().execute(async (trx) => {
      await claimOwnerName(trx, input.name, "organization", row.created_at, "createOrganization");
      await trx.insertInto("organizations").values(row).execute();
      await trx
        .insertInto("org_members")
        .values({ org_id: row.id, user_id: input.ownerUserId, role: "owner", created_at: row.created_at })
        .execute();
    });
    return toOrganization(row);
  }

  async getOrganization(name: string): Promise<Organization | undefined> {
    const row = await this.db
      .selectFrom("organizations")
      .selectAll()
      .where("name", "=", name)
      .executeTakeFirst();
    return row && toOrganization(row);
  }

  async listOrganizations(memberUserId?: string): Promise<Organization[]> {
    let q = this.db.selectFrom("organizations as o").selectAll("o");
    if (memberUserId !== undefined) {
      q = q.innerJoin("org_members as m", "m.org_id", "o.id").where("m.user_id", "=", memberUserId);
    }
    const rows = await q.orderBy("o.name").execute();
    return rows.map(toOrganization);
  }

  async setMember(orgId: string, userId: string, role: Role): Promise<void> {
    await this.db
      .insertInto("org_members")
      .values({ org_id: orgId, user_id: userId, role, created_at: now() })
      .onConflict((oc) => oc.columns(["org_id", "user_id"]).doUpdateSet({ role }))
      .execute();
  }

  async removeMember(orgId: string, userId: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom("org_members")
      .where("org_id", "=", orgId)
      .where("user_id", "=", userId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async listMembers(orgId: string): Promise<Member[]> {
    const rows = await this.db
      .selectFrom("org_members as m")
      .innerJoin("users as u", "u.id", "m.user_id")
      .selectAll("u")
      .select("m.role as role")
      .where("m.org_id", "=", orgId)
      .orderBy("u.name")
      .execute();
    return rows.map((r) => ({ user: toUser(r), role: r.role as Role }));
  }

  async getMemberRole(orgName: string, userId: string): Promise<Role | undefined> {
    const row = await this.db
      .selectFrom("org_members as m")
      .innerJoin("organizations as o", "o.id", "m.org_id")
      .select("m.role")
      .where("o.name", "=", orgName)
      .where("m.user_id", "=", userId)
      .executeTakeFirst();
    return row?.role as Role | undefined;
  }

  // Modules, commits, labels.

  async getModule(owner: string, name: string): Promise<Module | undefined> {
    const row = await this.db
      .selectFrom("modules")
      .selectAll()
      .where("owner", "=", owner)
      .where("name", "=", name)
      .executeTakeFirst();
    return row && toModule(row);
  }

  async listModules(owner?: string): Promise<Module[]> {
    let q = this.db.selectFrom("modules").selectAll();
    if (owner !== undefined) q = q.where("owner", "=", owner);
    const rows = await q.orderBy("owner").orderBy("name").execute();
    return rows.map(toModule);
  }

  async createModule(input: {
    owner: string;
    name: string;
    visibility: Visibility;
    defaultLabel: string;
  }): Promise<Module> {
    const row = {
      id: newId(),
      owner: input.owner,
      name: input.name,
      visibility: input.visibility,
      default_label: input.defaultLabel,
      last_seq: 0,
      created_at: now(),
    };
    try {
      await this.db.insertInto("modules").values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new RegistryError(Code.AlreadyExists, `module ${input.owner}/${input.name} already exists`, {
          op: "createModule",
          owner: input.owner,
          module: input.name,
        });
      }
      throw err;
    }
    return toModule(row);
  }

  async setVisibility(
    kind: "module" | "plugin" | "template",
    id: string,
    visibility: Visibility,
  ): Promise<void> {
    const table = kind === "module" ? "modules" : kind === "plugin" ? "plugins" : "templates";
    await this.db.updateTable(table).set({ visibility }).where("id", "=", id).execute();
  }

  async listDependents(moduleId: string): Promise<Module[]> {
    const rows = await this.db
      .selectFrom("modules as m")
      .selectAll("m")
      .where((eb) =>
        eb.exists(
          eb
            .selectFrom("commits as c")
            .innerJoin("commit_deps as d", "d.commit_id", "c.id")
            .innerJoin("commits as dc", "dc.id", "d.dep_commit_id")
            .select("c.id")
            .whereRef("c.module_id", "=", "m.id")
            .where("dc.module_id", "=", moduleId),
        ),
      )
      .orderBy("m.owner")
      .orderBy("m.name")
      .execute();
    return rows.map(toModule);
  }

  async listDependencies(moduleId: string): Promise<Module[]> {
    const rows = await this.db
      .selectFrom("modules as m")
      .selectAll("m")
      .where((eb) =>
        eb.exists(
          eb
            .selectFrom("commits as c")
            .innerJoin("commit_deps as d", "d.commit_id", "c.id")
            .innerJoin("commits as dc", "dc.id", "d.dep_commit_id")
            .select("c.id")
            .where("c.module_id", "=", moduleId)
            .whereRef("dc.module_id", "=", "m.id"),
        ),
      )
      .orderBy("m.owner")
      .orderBy("m.name")
      .execute();
    return rows.map(toModule);
  }

  async insertCommit(input: NewCommit, visibility: Visibility = "public"): Promise<InsertCommitResult> {
    const fields = { op: "insertCommit", owner: input.owner, module: input.module } as const;
    return this.db.transaction().execute(async (trx) => {
      const createdAt = now();
      await trx
        .insertInto("modules")
        .values({
          id: newId(),
          owner: input.owner,
          name: input.module,
          visibility,
          default_label: input.label,
          last_seq: 0,
          created_at: createdAt,
        })
        .onConflict((oc) => oc.columns(["owner", "name"]).doNothing())
        .execute();
      // A no-op write that takes the module's row lock (Postgres) before the head is read, so concurrent pushes
      // of one module queue here and the second sees the first's label; SQLite already holds its write lock.
      const mod = await trx
        .updateTable("modules")
        .set((eb) => ({ last_seq: eb.ref("last_seq") }))
        .where("owner", "=", input.owner)
        .where("name", "=", input.module)
        .returning(["id", "owner", "name"])
        .executeTakeFirstOrThrow();

      const head = await trx
        .selectFrom("labels")
        .select("commit_id")
        .where("module_id", "=", mod.id)
        .where("name", "=", input.label)
        .executeTakeFirst();
      if (head) {
        const headCommit = await selectCommits(trx)
          .where("c.id", "=", head.commit_id)
          .executeTakeFirstOrThrow();
        if (headCommit.digest === input.digest) {
          const headDeps = await trx
            .selectFrom("commit_deps")
            .select("dep_commit_id")
            .where("commit_id", "=", head.commit_id)
            .orderBy("position")
            .execute();
          const same =
            headDeps.length === input.deps.length &&
            headDeps.every((d, i) => d.dep_commit_id === input.deps[i]?.commitId);
          if (same) return { commit: toCommit(headCommit), created: false };
        }
      }

      const depIds = [...new Set(input.deps.map((d) => d.commitId))];
      const known = new Set<string>();
      for (const ids of chunks(depIds, insertChunkRows)) {
        const rows = await trx.selectFrom("commits").select("id").where("id", "in", ids).execute();
        for (const r of rows) known.add(r.id);
      }
      const missing = depIds.filter((id) => !known.has(id));
      if (missing.length > 0) {
        throw new RegistryError(
          Code.NotFound,
          `dependency commit ${missing.join(", ")} of ${input.owner}/${input.module} not found; push the dependency first`,
          fields,
        );
      }

      const { last_seq: seq } = await trx
        .updateTable("modules")
        .set((eb) => ({ last_seq: eb("last_seq", "+", 1) }))
        .where("id", "=", mod.id)
        .returning("last_seq")
        .executeTakeFirstOrThrow();
      try {
        await trx
          .insertInto("commits")
          .values({
            id: input.id,
            module_id: mod.id,
            seq,
            digest: input.digest,
            sources_blob: input.sourcesBlob,
            image_blob: input.imageBlob,
            created_by: input.createdBy,
            created_at: createdAt,
          })
          .execute();
      } catch (err) {
        if (isUniqueViolation(err)) {
          throw new RegistryError(
            Code.AlreadyExists,
            `commit id ${input.id} already exists; use a fresh id`,
            fields,
          );
        }
        throw err;
      }
      const files = input.files.map((f) => ({
        commit_id: input.id,
        path: f.path,
        size: f.size,
        sha256: f.sha256,
      }));
      for (const part of chunks(files, insertChunkRows))
        await trx.insertInto("commit_files").values(part).execute();
      const deps = input.deps.map((d, position) => ({
        commit_id: input.id,
        position,
        dep_commit_id: d.commitId,
        direct: d.direct ? 1 : 0,
      })) satisfies Database["commit_deps"][];
      for (const part of chunks(deps, insertChunkRows))
        await trx.insertInto("commit_deps").values(part).execute();
      await trx
        .insertInto("labels")
        .values({ module_id: mod.id, name: input.label, commit_id: input.id, updated_at: createdAt })
        .onConflict((oc) =>
          oc.columns(["module_id", "name"]).doUpdateSet({ commit_id: input.id, updated_at: createdAt }),
        )
        .execute();

      const commit: Commit = {
        id: input.id,
        moduleId: mod.id,
        owner: mod.owner,
        module: mod.name,
        seq,
        digest: input.digest,
        sourcesBlob: input.sourcesBlob,
        imageBlob: input.imageBlob,
        createdBy: input.createdBy,
        createdAt,
      };
      return { commit, created: true };
    });
  }

  async getCommit(id: string): Promise<Commit | undefined> {
    const row = await selectCommits(this.db).where("c.id", "=", id).executeTakeFirst();
    return row && toCommit(row);
  }

  async getCommitBySeq(moduleId: string, seq: number): Promise<Commit | undefined> {
    const row = await selectCommits(this.db)
      .where("c.module_id", "=", moduleId)
      .where("c.seq", "=", seq)
      .executeTakeFirst();
    return row && toCommit(row);
  }

  async listCommits(moduleId: string, page: Page): Promise<Commit[]> {
    let q = selectCommits(this.db).where("c.module_id", "=", moduleId);
    if (page.beforeSeq !== undefined) q = q.where("c.seq", "<", page.beforeSeq);
    const rows = await q.orderBy("c.seq", "desc").limit(page.limit).execute();
    return rows.map(toCommit);
  }

  async listCommitFiles(commitId: string): Promise<CommitFile[]> {
    const rows = await this.db
      .selectFrom("commit_files")
      .select(["path", "size", "sha256"])
      .where("commit_id", "=", commitId)
      .orderBy("path")
      .execute();
    return rows.map((r) => ({ path: r.path, size: r.size, sha256: r.sha256 }));
  }

  async listCommitDeps(commitId: string): Promise<CommitDep[]> {
    const rows = await this.db
      .selectFrom("commit_deps as d")
      .innerJoin("commits as c", "c.id", "d.dep_commit_id")
      .innerJoin("modules as m", "m.id", "c.module_id")
      .select(["d.dep_commit_id", "d.direct", "c.seq", "m.owner", "m.name"])
      .where("d.commit_id", "=", commitId)
      .orderBy("d.position")
      .execute();
    return rows.map((r) => ({
      commitId: r.dep_commit_id,
      owner: r.owner,
      module: r.name,
      seq: r.seq,
      direct: r.direct === 1,
    }));
  }

  async getLabel(moduleId: string, name: string): Promise<Label | undefined> {
    const row = await this.db
      .selectFrom("labels")
      .selectAll()
      .where("module_id", "=", moduleId)
      .where("name", "=", name)
      .executeTakeFirst();
    return row && toLabel(row);
  }

  async listLabels(moduleId: string): Promise<Label[]> {
    const rows = await this.db
      .selectFrom("labels")
      .selectAll()
      .where("module_id", "=", moduleId)
      .orderBy("name")
      .execute();
    return rows.map(toLabel);
  }

  async setLabel(
    moduleId: string,
    name: string,
    commitId: string,
    mode: "create" | "move" | "upsert",
  ): Promise<Label> {
    return this.db.transaction().execute(async (trx) => {
      const mod = await trx.selectFrom("modules").selectAll().where("id", "=", moduleId).executeTakeFirst();
      if (!mod) throw new RegistryError(Code.NotFound, `module id ${moduleId} not found`, { op: "setLabel" });
      const fields = { op: "setLabel", owner: mod.owner, module: mod.name, ref: name } as const;
      const commit = await trx
        .selectFrom("commits")
        .select("module_id")
        .where("id", "=", commitId)
        .executeTakeFirst();
      if (commit?.module_id !== moduleId) {
        throw new RegistryError(
          Code.NotFound,
          `commit ${commitId} not found in module ${mod.owner}/${mod.name}`,
          fields,
        );
      }
      const label = { module_id: moduleId, name, commit_id: commitId, updated_at: now() };
      if (mode === "move") {
        const res = await trx
          .updateTable("labels")
          .set({ commit_id: commitId, updated_at: label.updated_at })
          .where("module_id", "=", moduleId)
          .where("name", "=", name)
          .executeTakeFirst();
        if (res.numUpdatedRows === 0n) {
          const names = (await this.labelNames(trx, moduleId)).join(", ") || "none";
          throw new RegistryError(
            Code.NotFound,
            `module ${mod.owner}/${mod.name} has no label "${name}" (labels: ${names})`,
            fields,
          );
        }
      } else if (mode === "create") {
        try {
          await trx.insertInto("labels").values(label).execute();
        } catch (err) {
          if (!isUniqueViolation(err)) throw err;
          throw new RegistryError(
            Code.AlreadyExists,
            `module ${mod.owner}/${mod.name} already has label "${name}"; move it instead`,
            fields,
          );
        }
      } else {
        await trx
          .insertInto("labels")
          .values(label)
          .onConflict((oc) =>
            oc
              .columns(["module_id", "name"])
              .doUpdateSet({ commit_id: commitId, updated_at: label.updated_at }),
          )
          .execute();
      }
      return toLabel(label);
    });
  }

  private async labelNames(db: Kysely<Database>, moduleId: string): Promise<string[]> {
    const rows = await db
      .selectFrom("labels")
      .select("name")
      .where("module_id", "=", moduleId)
      .orderBy("name")
      .execute();
    return rows.map((r) => r.name);
  }

  // Plugins.

  async createPlugin(input: { owner: string; name: string; visibility: Visibility }): Promise<Plugin> {
    const row = {
      id: newId(),
      owner: input.owner,
      name: input.name,
      visibility: input.visibility,
      version_count: 0,
      created_at: now(),
    };
    try {
      await this.db.insertInto("plugins").values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new RegistryError(Code.AlreadyExists, `plugin ${input.owner}/${input.name} already exists`, {
          op: "createPlugin",
          plugin: `${input.owner}/${input.name}`,
        });
      }
      throw err;
    }
    return toPlugin(row);
  }

  async getPlugin(owner: string, name: string): Promise<Plugin | undefined> {
    const row = await this.db
      .selectFrom("plugins")
      .selectAll()
      .where("owner", "=", owner)
      .where("name", "=", name)
      .executeTakeFirst();
    return row && toPlugin(row);
  }

  async listPlugins(owner?: string): Promise<Plugin[]> {
    let q = this.db.selectFrom("plugins").selectAll();
    if (owner !== undefined) q = q.where("owner", "=", owner);
    const rows = await q.orderBy("owner").orderBy("name").execute();
    return rows.map(toPlugin);
  }

  async createPluginVersion(input: Omit<PluginVersion, "pluginId" | "createdAt">): Promise<PluginVersion> {
    const plugin = `${input.owner}/${input.name}`;
    const fields = { op: "createPluginVersion", plugin } as const;
    return this.db.transaction().execute(async (trx) => {
      // Taking the plugin's row lock first also allocates the version's position in creation order.
      const p = await trx
        .updateTable("plugins")
        .set((eb) => ({ version_count: eb("version_count", "+", 1) }))
        .where("owner", "=", input.owner)
        .where("name", "=", input.name)
        .returning(["id", "version_count"])
        .executeTakeFirst();
      if (!p)
        throw new RegistryError(Code.NotFound, `plugin ${plugin} not found; create the plugin first`, fields);
      const exists = await trx
        .selectFrom("plugin_versions")
        .select("version")
        .where("plugin_id", "=", p.id)
        .where("version", "=", input.version)
        .executeTakeFirst();
      if (exists) {
        throw new RegistryError(
          Code.AlreadyExists,
          `plugin version ${plugin} ${input.version} already exists`,
          fields,
        );
      }
      const row = {
        plugin_id: p.id,
        version: input.version,
        position: p.version_count,
        source: JSON.stringify(input.source),
        runtime_libraries: JSON.stringify(input.runtimeLibraries),
        registry_options: JSON.stringify(input.registryOptions),
        created_at: now(),
      };
      await trx.insertInto("plugin_versions").values(row).execute();
      return toPluginVersion({ ...row, owner: input.owner, name: input.name });
    });
  }

  async getPluginVersion(owner: string, name: string, version: string): Promise<PluginVersion | undefined> {
    const row = await selectPluginVersions(this.db)
      .where("p.owner", "=", owner)
      .where("p.name", "=", name)
      .where("v.version", "=", version)
      .executeTakeFirst();
    return row && toPluginVersion(row);
  }

  async listPluginVersions(owner: string, name: string): Promise<PluginVersion[]> {
    const rows = await selectPluginVersions(this.db)
      .where("p.owner", "=", owner)
      .where("p.name", "=", name)
      .orderBy("v.position")
      .execute();
    return rows.map(toPluginVersion);
  }

  // Templates.

  async createTemplate(input: Omit<Template, "id" | "createdAt">): Promise<Template> {
    const row = {
      id: newId(),
      owner: input.owner,
      name: input.name,
      visibility: input.visibility,
      plugins: JSON.stringify(input.plugins),
      last_version: 0,
      created_at: now(),
    };
    try {
      await this.db.insertInto("templates").values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new RegistryError(Code.AlreadyExists, `template ${input.owner}/${input.name} already exists`, {
          op: "createTemplate",
          template: `${input.owner}/${input.name}`,
        });
      }
      throw err;
    }
    return toTemplate(row);
  }

  async getTemplate(owner: string, name: string): Promise<Template | undefined> {
    const row = await this.db
      .selectFrom("templates")
      .selectAll()
      .where("owner", "=", owner)
      .where("name", "=", name)
      .executeTakeFirst();
    return row && toTemplate(row);
  }

  async listTemplates(owner?: string): Promise<Template[]> {
    let q = this.db.selectFrom("templates").selectAll();
    if (owner !== undefined) q = q.where("owner", "=", owner);
    const rows = await q.orderBy("owner").orderBy("name").execute();
    return rows.map(toTemplate);
  }

  async createTemplateVersion(
    templateId: string,
    plugins: TemplateVersion["plugins"],
  ): Promise<TemplateVersion> {
    return this.db.transaction().execute(async (trx) => {
      const t = await trx
        .updateTable("templates")
        .set((eb) => ({ last_version: eb("last_version", "+", 1) }))
        .where("id", "=", templateId)
        .returning("last_version")
        .executeTakeFirst();
      if (!t) {
        throw new RegistryError(Code.NotFound, `template id ${templateId} not found`, {
          op: "createTemplateVersion",
        });
      }
      const row = {
        template_id: templateId,
        number: t.last_version,
        plugins: JSON.stringify(plugins),
        created_at: now(),
      };
      await trx.insertInto("template_versions").values(row).execute();
      return toTemplateVersion(row);
    });
  }

  async getTemplateVersion(templateId: string, number: number): Promise<TemplateVersion | undefined> {
    const row = await this.db
      .selectFrom("template_versions")
      .selectAll()
      .where("template_id", "=", templateId)
      .where("number", "=", number)
      .executeTakeFirst();
    return row && toTemplateVersion(row);
  }

  async listTemplateVersions(templateId: string): Promise<TemplateVersion[]> {
    const rows = await this.db
      .selectFrom("template_versions")
      .selectAll()
      .where("template_id", "=", templateId)
      .orderBy("number")
      .execute();
    return rows.map(toTemplateVersion);
  }

  // Artifacts.

  async getArtifact(key: ArtifactKey): Promise<ArtifactRecord | undefined> {
    const row = await this.db
      .selectFrom("artifacts")
      .selectAll()
      .where("template_id", "=", key.templateId)
      .where("template_version", "=", key.templateVersion)
      .where("commit_id", "=", key.commitId)
      .where("scope", "=", key.scope)
      .where("flavour", "=", key.flavour)
      .executeTakeFirst();
    return row && toArtifact(row);
  }

  async putArtifact(record: Omit<ArtifactRecord, "createdAt">): Promise<ArtifactRecord> {
    try {
      await this.db
        .insertInto("artifacts")
        .values({
          template_id: record.templateId,
          template_version: record.templateVersion,
          commit_id: record.commitId,
          scope: record.scope,
          flavour: record.flavour,
          blob: record.blob,
          digest: record.digest,
          size: record.size,
          extra: JSON.stringify(record.extra),
          created_at: now(),
        })
        .onConflict((oc) =>
          oc.columns(["template_id", "template_version", "commit_id", "scope", "flavour"]).doNothing(),
        )
        .execute();
    } catch (err) {
      if (isForeignKeyViolation(err)) {
        throw new RegistryError(
          Code.NotFound,
          `artifact refers to an unknown template version (${record.templateId} v${record.templateVersion}) or commit ${record.commitId}`,
          { op: "putArtifact" },
        );
      }
      throw err;
    }
    const stored = await this.getArtifact(record);
    if (!stored) throw new RegistryError(Code.Internal, "artifact vanished right after it was stored");
    return stored;
  }

  async listArtifacts(filter: Partial<ArtifactKey>): Promise<ArtifactRecord[]> {
    let q = this.db.selectFrom("artifacts").selectAll();
    if (filter.templateId !== undefined) q = q.where("template_id", "=", filter.templateId);
    if (filter.templateVersion !== undefined) q = q.where("template_version", "=", filter.templateVersion);
    if (filter.commitId !== undefined) q = q.where("commit_id", "=", filter.commitId);
    if (filter.scope !== undefined) q = q.where("scope", "=", filter.scope);
    if (filter.flavour !== undefined) q = q.where("flavour", "=", filter.flavour);
    const rows = await q
      .orderBy("template_id")
      .orderBy("template_version")
      .orderBy("commit_id")
      .orderBy("scope")
      .orderBy("flavour")
      .execute();
    return rows.map(toArtifact);
  }

  async deleteArtifacts(filter: Partial<ArtifactKey>): Promise<number> {
    let q = this.db.deleteFrom("artifacts");
    if (filter.templateId !== undefined) q = q.where("template_id", "=", filter.templateId);
    if (filter.templateVersion !== undefined) q = q.where("template_version", "=", filter.templateVersion);
    if (filter.commitId !== undefined) q = q.where("commit_id", "=", filter.commitId);
    if (filter.scope !== undefined) q = q.where("scope", "=", filter.scope);
    if (filter.flavour !== undefined) q = q.where("flavour", "=", filter.flavour);
    const res = await q.executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.destroy();
  }
}
