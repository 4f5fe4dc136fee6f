// Modules, commits, labels and visibility.
import type { Kysely } from "kysely";
import { Code, RegistryError } from "../../../core/errors.js";
import type {
  B5,
  BreakingCategory,
  Commit,
  CommitDep,
  CommitFile,
  Label,
  LintCategory,
  Module,
  PolicyAction,
  PushPolicy,
  Visibility,
} from "../../../core/types.js";
import type { InsertCommitResult, ModuleChange, ModuleStore, NewCommit, Page } from "../metadata-store.js";
import { chunks, insertChunkRows, inTransaction, newId, now, selectCommits } from "./common.js";
import { toCommit, toLabel, toModule } from "./rows.js";
import type { Database } from "./schema.js";
import { isUniqueViolation } from "./sql-errors.js";

async function labelNames(db: Kysely<Database>, moduleId: string): Promise<string[]> {
  const rows = await db
    .selectFrom("labels")
    .select("name")
    .where("module_id", "=", moduleId)
    .orderBy("name")
    .execute();
  return rows.map((r) => r.name);
}

/**
 * Modules linked to `moduleId` through any commit's pinned dependencies: those depending on it ("dependents") or
 * those it depends on ("dependencies"), by owner and name.
 */
async function linkedModules(
  db: Kysely<Database>,
  moduleId: string,
  direction: "dependents" | "dependencies",
): Promise<Module[]> {
  // `c` is the depending commit, `dc` the commit it pins; `m` is the module on the other side from `moduleId`.
  const [mine, theirs] = direction === "dependents" ? (["dc", "c"] as const) : (["c", "dc"] as const);
  const rows = await db
    .selectFrom("modules as m")
    .selectAll("m")
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom("commits as c")
          .innerJoin("commit_deps as d", "d.commit_id", "c.id")
          .innerJoin("commits as dc", "dc.id", "d.dep_commit_id")
          .select("c.id")
          .where(`${mine}.module_id`, "=", moduleId)
          .whereRef(`${theirs}.module_id`, "=", "m.id"),
      ),
    )
    .orderBy("m.owner")
    .orderBy("m.name")
    .execute();
  return rows.map(toModule);
}

type Trx = Parameters<Parameters<typeof inTransaction>[1]>[0];

/** The module's row, created on first push, locked for this transaction (Postgres; SQLite holds its write lock). */
async function lockModule(trx: Trx, input: NewCommit, visibility: Visibility, createdAt: string) {
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
    .returning(["id", "owner", "name", "deleted_at", "deprecation"])
    .executeTakeFirstOrThrow();
  if (mod.deleted_at) throw deletedModule(mod.owner, mod.name);
  return mod;
}

/** Points a label at a commit (unarchiving it: a push to an archived label brings it back). */
async function moveLabel(
  trx: Trx,
  moduleId: string,
  label: string,
  commitId: string,
  at: string,
): Promise<void> {
  await trx
    .insertInto("labels")
    .values({ module_id: moduleId, name: label, commit_id: commitId, updated_at: at })
    .onConflict((oc) =>
      oc
        .columns(["module_id", "name"])
        .doUpdateSet({ commit_id: commitId, updated_at: at, archived_at: null }),
    )
    .execute();
}

/**
 * A commit of the module with the same digest and the same pinned deps, the label's head first: content the module
 * already has is not committed twice.
 */
async function findSameCommit(trx: Trx, moduleId: string, input: NewCommit, headId: string | undefined) {
  const sameDigest = await selectCommits(trx)
    .where("c.module_id", "=", moduleId)
    .where("c.digest", "=", input.digest)
    .orderBy("c.seq", "desc")
    .execute();
  sameDigest.sort((a, b) => Number(b.id === headId) - Number(a.id === headId));
  for (const candidate of sameDigest) {
    const candidateDeps = await trx
      .selectFrom("commit_deps")
      .select("dep_commit_id")
      .where("commit_id", "=", candidate.id)
      .orderBy("position")
      .execute();
    const same =
      candidateDeps.length === input.deps.length &&
      candidateDeps.every((d, i) => d.dep_commit_id === input.deps[i]?.commitId);
    if (same) return candidate;
  }
  return undefined;
}

/** Throws NotFound naming the dependency commits that do not exist. */
async function checkDepsExist(trx: Trx, input: NewCommit, fields: RegistryError["fields"]): Promise<void> {
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
}

/** The commit's rows: the commit at `seq`, its files and its pinned dependencies. */
async function writeCommitRows(
  trx: Trx,
  mod: { id: string; deprecation: string | null },
  seq: number,
  input: NewCommit,
  createdAt: string,
  fields: RegistryError["fields"],
): Promise<void> {
  try {
    await trx
      .insertInto("commits")
      .values({
        id: input.id,
        module_id: mod.id,
        seq,
        digest: input.digest,
        b5_digest: input.b5?.digest ?? null,
        b5_deps: input.b5 ? JSON.stringify(input.b5.deps) : null,
        sources_blob: input.sourcesBlob,
        image_blob: input.imageBlob,
        created_by: input.createdBy,
        created_at: createdAt,
        deprecation: mod.deprecation,
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
}

function insertCommit(
  db: Kysely<Database>,
  input: NewCommit,
  visibility: Visibility = "public",
): Promise<InsertCommitResult> {
  const fields = { op: "insertCommit", owner: input.owner, module: input.module } as const;
  return inTransaction(db, async (trx) => {
    const createdAt = now();
    const mod = await lockModule(trx, input, visibility, createdAt);
    const head = await trx
      .selectFrom("labels")
      .select("commit_id")
      .where("module_id", "=", mod.id)
      .where("name", "=", input.label)
      .executeTakeFirst();
    // Same content: the label is pointed at that commit, whether it is the label's head, another label's, or an
    // older one (a revert).
    const existing = await findSameCommit(trx, mod.id, input, head?.commit_id);
    if (existing) {
      if (head?.commit_id !== existing.id) await moveLabel(trx, mod.id, input.label, existing.id, createdAt);
      return { commit: toCommit(existing), created: false };
    }
    await checkDepsExist(trx, input, fields);
    const { last_seq: seq } = await trx
      .updateTable("modules")
      .set((eb) => ({ last_seq: eb("last_seq", "+", 1) }))
      .where("id", "=", mod.id)
      .returning("last_seq")
      .executeTakeFirstOrThrow();
    await writeCommitRows(trx, mod, seq, input, createdAt, fields);
    await moveLabel(trx, mod.id, input.label, input.id, createdAt);
    const commit: Commit = {
      id: input.id,
      moduleId: mod.id,
      owner: mod.owner,
      module: mod.name,
      seq,
      digest: input.digest,
      ...(input.b5 ? { b5: input.b5 } : {}),
      sourcesBlob: input.sourcesBlob,
      imageBlob: input.imageBlob,
      createdBy: input.createdBy,
      createdAt,
      ...(mod.deprecation !== null ? { deprecation: mod.deprecation } : {}),
    };
    return { commit, created: true };
  });
}

async function createModule(
  db: Kysely<Database>,
  input: {
    owner: string;
    name: string;
    visibility: Visibility;
    defaultLabel: string;
  },
): Promise<Module> {
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
    await db.insertInto("modules").values(row).execute();
  } catch (err) {
    if (isUniqueViolation(err)) {
      const existing = await db
        .selectFrom("modules")
        .select("deleted_at")
        .where("owner", "=", input.owner)
        .where("name", "=", input.name)
        .executeTakeFirst();
      if (existing?.deleted_at) throw deletedModule(input.owner, input.name);
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

async function setVisibility(
  db: Kysely<Database>,
  kind: "module" | "plugin" | "template",
  id: string,
  visibility: Visibility,
): Promise<void> {
  const table = kind === "module" ? "modules" : kind === "plugin" ? "plugins" : "templates";
  await db.updateTable(table).set({ visibility }).where("id", "=", id).execute();
}

async function setDeprecation(
  db: Kysely<Database>,
  kind: "plugin" | "template",
  id: string,
  deprecation: string | null,
): Promise<void> {
  await db
    .updateTable(kind === "plugin" ? "plugins" : "templates")
    .set({ deprecation })
    .where("id", "=", id)
    .execute();
}

async function updateModule(db: Kysely<Database>, id: string, change: ModuleChange): Promise<void> {
  const set = {
    ...(change.description !== undefined ? { description: change.description } : {}),
    ...(change.defaultLabel !== undefined ? { default_label: change.defaultLabel } : {}),
    ...(change.deprecation !== undefined ? { deprecation: change.deprecation } : {}),
  };
  if (Object.keys(set).length > 0) await db.updateTable("modules").set(set).where("id", "=", id).execute();
}

async function deleteEmptyModule(db: Kysely<Database>, id: string): Promise<boolean> {
  return inTransaction(db, async (trx) => {
    // The row lock a push takes first (see insertCommit), so no commit lands between the check and the delete.
    const mod = await trx
      .updateTable("modules")
      .set((eb) => ({ last_seq: eb.ref("last_seq") }))
      .where("id", "=", id)
      .returning("id")
      .executeTakeFirst();
    if (!mod) return false;
    const commit = await trx
      .selectFrom("commits")
      .select("id")
      .where("module_id", "=", id)
      .executeTakeFirst();
    if (commit) return false;
    await trx.deleteFrom("push_policies").where("module_id", "=", id).execute();
    await trx.deleteFrom("module_pregenerate").where("module_id", "=", id).execute();
    await trx.deleteFrom("labels").where("module_id", "=", id).execute();
    await trx.deleteFrom("modules").where("id", "=", id).execute();
    return true;
  });
}

async function deleteModule(
  db: Kysely<Database>,
  id: string,
): Promise<"deleted" | "has-dependents" | "missing"> {
  return inTransaction(db, async (trx) => {
    // The row lock a push takes first (see insertCommit): no commit pinning this module lands meanwhile.
    const mod = await trx
      .updateTable("modules")
      .set((eb) => ({ last_seq: eb.ref("last_seq") }))
      .where("id", "=", id)
      .where("deleted_at", "is", null)
      .returning("id")
      .executeTakeFirst();
    if (!mod) return "missing";
    const dependent = await trx
      .selectFrom("commits as c")
      .innerJoin("commit_deps as d", "d.commit_id", "c.id")
      .innerJoin("commits as dc", "dc.id", "d.dep_commit_id")
      .innerJoin("modules as m", "m.id", "c.module_id")
      .select("c.id")
      .where("dc.module_id", "=", id)
      .where("c.module_id", "!=", id)
      // A deleted dependent answers 410 itself: it no longer holds its dependencies.
      .where("m.deleted_at", "is", null)
      .executeTakeFirst();
    if (dependent) return "has-dependents";
    await trx.updateTable("modules").set({ deleted_at: now() }).where("id", "=", id).execute();
    return "deleted";
  });
}

async function getPushPolicy(
  db: Kysely<Database>,
  moduleId: string,
  label: string,
): Promise<(PushPolicy & { label: string }) | undefined> {
  const rows = await db
    .selectFrom("push_policies")
    .selectAll()
    .where("module_id", "=", moduleId)
    .where("label", "in", label === "" ? [""] : [label, ""])
    .execute();
  const row = rows.find((r) => r.label === label) ?? rows.find((r) => r.label === "");
  return (
    row && {
      label: row.label,
      breaking: row.breaking as PolicyAction,
      breakingCategory: row.breaking_category as BreakingCategory,
      lint: row.lint as PolicyAction,
      lintCategories: row.lint_categories.split(",").filter(Boolean) as LintCategory[],
    }
  );
}

async function setPushPolicy(
  db: Kysely<Database>,
  moduleId: string,
  label: string,
  policy: PushPolicy,
): Promise<void> {
  const values = {
    breaking: policy.breaking,
    breaking_category: policy.breakingCategory,
    lint: policy.lint,
    lint_categories: policy.lintCategories.join(","),
    updated_at: now(),
  };
  await db
    .insertInto("push_policies")
    .values({ module_id: moduleId, label, ...values })
    .onConflict((oc) => oc.columns(["module_id", "label"]).doUpdateSet(values))
    .execute();
}

async function findCommitsByIdPrefix(
  db: Kysely<Database>,
  moduleId: string,
  prefix: string,
  limit: number,
): Promise<Commit[]> {
  // The callers pass hex only, so the prefix has no LIKE wildcards to escape.
  if (!/^[0-9a-f]*$/.test(prefix)) return [];
  const rows = await selectCommits(db)
    .where("c.module_id", "=", moduleId)
    .where("c.id", "like", `${prefix}%`)
    .orderBy("c.seq", "desc")
    .limit(limit)
    .execute();
  return rows.map(toCommit);
}

async function listCommits(db: Kysely<Database>, moduleId: string, page: Page): Promise<Commit[]> {
  let q = selectCommits(db).where("c.module_id", "=", moduleId);
  if (page.beforeSeq !== undefined) q = q.where("c.seq", "<", page.beforeSeq);
  if (page.afterSeq !== undefined) q = q.where("c.seq", ">", page.afterSeq);
  if (page.idPrefix) {
    if (!/^[0-9a-f]{1,32}$/.test(page.idPrefix))
      throw new RegistryError(Code.InvalidArgument, `commit id prefix "${page.idPrefix}" is not hex`);
    q = q.where("c.id", "like", `${page.idPrefix}%`);
  }
  const rows = await q
    .orderBy("c.seq", page.oldestFirst ? "asc" : "desc")
    .limit(page.limit)
    .execute();
  return rows.map(toCommit);
}

async function listCommitDeps(db: Kysely<Database>, commitId: string): Promise<CommitDep[]> {
  const rows = await db
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

async function setLabelArchived(
  db: Kysely<Database>,
  moduleId: string,
  name: string,
  archived: boolean,
): Promise<Label | undefined> {
  // An archived label keeps the time it was first archived.
  await db
    .updateTable("labels")
    .set({ archived_at: archived ? now() : null })
    .where("module_id", "=", moduleId)
    .where("name", "=", name)
    .where("archived_at", archived ? "is" : "is not", null)
    .execute();
  const row = await db
    .selectFrom("labels")
    .selectAll()
    .where("module_id", "=", moduleId)
    .where("name", "=", name)
    .executeTakeFirst();
  return row && toLabel(row);
}

async function setLabel(
  db: Kysely<Database>,
  moduleId: string,
  name: string,
  commitId: string,
  mode: "create" | "move" | "upsert",
): Promise<Label> {
  return inTransaction(db, async (trx) => {
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
        .set({ commit_id: commitId, updated_at: label.updated_at, archived_at: null })
        .where("module_id", "=", moduleId)
        .where("name", "=", name)
        .executeTakeFirst();
      if (res.numUpdatedRows === 0n) {
        const names = (await labelNames(trx, moduleId)).join(", ") || "none";
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
            .doUpdateSet({ commit_id: commitId, updated_at: label.updated_at, archived_at: null }),
        )
        .execute();
    }
    return toLabel(label);
  });
}

async function getModule(db: Kysely<Database>, owner: string, name: string): Promise<Module | undefined> {
  const row = await db
    .selectFrom("modules")
    .selectAll()
    .where("owner", "=", owner)
    .where("name", "=", name)
    .executeTakeFirst();
  return row && toModule(row);
}

async function listModules(db: Kysely<Database>, owner?: string): Promise<Module[]> {
  let q = db.selectFrom("modules").selectAll().where("deleted_at", "is", null);
  if (owner !== undefined) q = q.where("owner", "=", owner);
  const rows = await q.orderBy("owner").orderBy("name").execute();
  return rows.map(toModule);
}

async function setCommitB5(db: Kysely<Database>, commitId: string, b5: B5): Promise<void> {
  // A commit never changes: only a missing digest is filled, so two nodes computing it race harmlessly.
  await db
    .updateTable("commits")
    .set({ b5_digest: b5.digest, b5_deps: JSON.stringify(b5.deps) })
    .where("id", "=", commitId)
    .where("b5_digest", "is", null)
    .execute();
}

async function getCommitBySeq(
  db: Kysely<Database>,
  moduleId: string,
  seq: number,
): Promise<Commit | undefined> {
  const row = await selectCommits(db)
    .where("c.module_id", "=", moduleId)
    .where("c.seq", "=", seq)
    .executeTakeFirst();
  return row && toCommit(row);
}

async function listCommitFiles(db: Kysely<Database>, commitId: string): Promise<CommitFile[]> {
  const rows = await db
    .selectFrom("commit_files")
    .select(["path", "size", "sha256"])
    .where("commit_id", "=", commitId)
    .orderBy("path")
    .execute();
  return rows.map((r) => ({ path: r.path, size: r.size, sha256: r.sha256 }));
}

async function listLabels(db: Kysely<Database>, moduleId: string): Promise<Label[]> {
  const rows = await db
    .selectFrom("labels")
    .selectAll()
    .where("module_id", "=", moduleId)
    .orderBy("name")
    .execute();
  return rows.map(toLabel);
}

export function createKyselyModuleStore(db: Kysely<Database>): ModuleStore {
  return {
    getModule: (owner, name) => getModule(db, owner, name),
    listModules: (owner) => listModules(db, owner),
    createModule: (input) => createModule(db, input),
    setVisibility: (kind, id, visibility) => setVisibility(db, kind, id, visibility),
    setDeprecation: (kind, id, deprecation) => setDeprecation(db, kind, id, deprecation),
    updateModule: (id, change) => updateModule(db, id, change),
    deleteEmptyModule: (id) => deleteEmptyModule(db, id),
    deleteModule: (id) => deleteModule(db, id),
    listDependents: (moduleId: string) => linkedModules(db, moduleId, "dependents"),
    listDependencies: (moduleId: string) => linkedModules(db, moduleId, "dependencies"),
    insertCommit: (input, visibility) => insertCommit(db, input, visibility),
    setCommitB5: (commitId, b5) => setCommitB5(db, commitId, b5),

    async getModuleById(id: string): Promise<Module | undefined> {
      const row = await db.selectFrom("modules").selectAll().where("id", "=", id).executeTakeFirst();
      return row && toModule(row);
    },

    async getCommit(id: string): Promise<Commit | undefined> {
      const row = await selectCommits(db).where("c.id", "=", id).executeTakeFirst();
      return row && toCommit(row);
    },

    getPushPolicy: (moduleId, label) => getPushPolicy(db, moduleId, label),
    setPushPolicy: (moduleId, label, policy) => setPushPolicy(db, moduleId, label, policy),
    findCommitsByIdPrefix: (moduleId, prefix, limit) => findCommitsByIdPrefix(db, moduleId, prefix, limit),
    getCommitBySeq: (moduleId, seq) => getCommitBySeq(db, moduleId, seq),
    listCommits: (moduleId, page) => listCommits(db, moduleId, page),
    listCommitFiles: (commitId) => listCommitFiles(db, commitId),
    listCommitDeps: (commitId) => listCommitDeps(db, commitId),

    async getLabel(moduleId: string, name: string): Promise<Label | undefined> {
      const row = await db
        .selectFrom("labels")
        .selectAll()
        .where("module_id", "=", moduleId)
        .where("name", "=", name)
        .executeTakeFirst();
      return row && toLabel(row);
    },

    listLabels: (moduleId) => listLabels(db, moduleId),
    setLabelArchived: (moduleId, name, archived) => setLabelArchived(db, moduleId, name, archived),
    setLabel: (moduleId, name, commitId, mode) => setLabel(db, moduleId, name, commitId, mode),
  };
}

/** A deleted module's name: it stays reserved, so nothing else ever answers under it. */
const deletedModule = (owner: string, name: string) =>
  new RegistryError(
    Code.Gone,
    `module ${owner}/${name} was deleted; its name stays reserved and cannot be used again`,
    { owner, module: name },
  );
