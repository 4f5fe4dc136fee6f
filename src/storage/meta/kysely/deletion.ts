// Deleting plugins and templates (modules: modules.ts), what holds a deletion back, freeing a quarantined name, and
// the coarse day a module's or template's artifacts were last served.
import { type Kysely, sql } from "kysely";
import type { Module, PinnedPlugin, Template, TemplatePlugin } from "../../../core/types.js";
import type { DeletionStore } from "../metadata-store.js";
import { chunks, insertChunkRows, inTransaction, now } from "./common.js";
import { toModule, toTemplate } from "./rows.js";
import type { Database } from "./schema.js";

/** Names hold only [a-z0-9-], so `%name%` has no wildcard of its own: a cheap prefilter before the JSON is read. */
const mentions = (name: string) => `%"${name}"%`;

const names = (text: string): { owner: string; name: string }[] =>
  JSON.parse(text) as (TemplatePlugin | PinnedPlugin)[];

/** Templates, not deleted, that run owner/name or have a version pinning it. */
async function pluginUsers(db: Kysely<Database>, owner: string, name: string): Promise<Template[]> {
  const runs = (text: string) => names(text).some((p) => p.owner === owner && p.name === name);
  const templates = await db
    .selectFrom("templates")
    .selectAll()
    .where("deleted_at", "is", null)
    .where("plugins", "like", mentions(name))
    .execute();
  const pinning = await db
    .selectFrom("template_versions as v")
    .innerJoin("templates as t", "t.id", "v.template_id")
    .select(["v.template_id", "v.plugins"])
    .where("t.deleted_at", "is", null)
    .where("v.plugins", "like", mentions(name))
    .execute();
  const pinned = new Set(pinning.filter((v) => runs(v.plugins)).map((v) => v.template_id));
  const all = await db
    .selectFrom("templates")
    .selectAll()
    .where("id", "in", pinned.size > 0 ? [...pinned] : [""])
    .execute();
  const found = new Map([...templates.filter((t) => runs(t.plugins)), ...all].map((t) => [t.id, t]));
  return [...found.values()]
    .map(toTemplate)
    .sort((a, b) => `${a.owner}/${a.name}`.localeCompare(`${b.owner}/${b.name}`));
}

async function templateSubscribers(
  db: Kysely<Database>,
  templateId: string,
): Promise<{ modules: Module[]; owners: string[] }> {
  const modules = await db
    .selectFrom("module_pregenerate as p")
    .innerJoin("modules as m", "m.id", "p.module_id")
    .selectAll("m")
    .where("p.template_id", "=", templateId)
    .where("m.deleted_at", "is", null)
    .orderBy("m.owner")
    .orderBy("m.name")
    .execute();
  const owners = await db
    .selectFrom("owner_pregenerate")
    .select("owner")
    .where("template_id", "=", templateId)
    .orderBy("owner")
    .execute();
  return { modules: modules.map(toModule), owners: owners.map((o) => o.owner) };
}

type Deletion = "deleted" | "has-dependents" | "missing";

async function deletePlugin(db: Kysely<Database>, id: string): Promise<Deletion> {
  return inTransaction(db, async (trx) => {
    // The plugin's row lock (Postgres; SQLite holds its write lock): a version of it cannot land meanwhile.
    const plugin = await trx
      .updateTable("plugins")
      .set((eb) => ({ version_count: eb.ref("version_count") }))
      .where("id", "=", id)
      .where("deleted_at", "is", null)
      .returning(["owner", "name"])
      .executeTakeFirst();
    if (!plugin) return "missing";
    if ((await pluginUsers(trx, plugin.owner, plugin.name)).length > 0) return "has-dependents";
    await trx.updateTable("plugins").set({ deleted_at: now() }).where("id", "=", id).execute();
    return "deleted";
  });
}

async function deleteTemplate(db: Kysely<Database>, id: string): Promise<Deletion> {
  return inTransaction(db, async (trx) => {
    // The template's row lock, which a new version takes too.
    const template = await trx
      .updateTable("templates")
      .set((eb) => ({ last_version: eb.ref("last_version") }))
      .where("id", "=", id)
      .where("deleted_at", "is", null)
      .returning("id")
      .executeTakeFirst();
    if (!template) return "missing";
    const { modules, owners } = await templateSubscribers(trx, id);
    if (modules.length > 0 || owners.length > 0) return "has-dependents";
    await trx.updateTable("templates").set({ deleted_at: now() }).where("id", "=", id).execute();
    return "deleted";
  });
}

const tables = { module: "modules", plugin: "plugins", template: "templates" } as const;

async function releaseName(
  db: Kysely<Database>,
  kind: "module" | "plugin" | "template",
  id: string,
): Promise<boolean> {
  const result = await db
    .updateTable(tables[kind])
    .set({ name: sql<string>`name || ${`~${id}`}` })
    .where("id", "=", id)
    .where("deleted_at", "is not", null)
    // Released once: a second call finds the name already moved.
    .where("name", "not like", "%~%")
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

async function recordServed(
  db: Kysely<Database>,
  day: string,
  served: { commitIds: readonly string[]; templateIds: readonly string[] },
): Promise<void> {
  for (const ids of chunks(served.commitIds, insertChunkRows)) {
    await db
      .updateTable("modules")
      .set({ last_served_on: day })
      .where("id", "in", (eb) => eb.selectFrom("commits").select("module_id").where("id", "in", ids))
      .where((eb) => eb.or([eb("last_served_on", "is", null), eb("last_served_on", "<", day)]))
      .execute();
  }
  for (const ids of chunks(served.templateIds, insertChunkRows)) {
    await db
      .updateTable("templates")
      .set({ last_served_on: day })
      .where("id", "in", ids)
      .where((eb) => eb.or([eb("last_served_on", "is", null), eb("last_served_on", "<", day)]))
      .execute();
  }
}

export function createKyselyDeletionStore(db: Kysely<Database>): DeletionStore {
  return {
    deletePlugin: (id) => deletePlugin(db, id),
    listPluginUsers: (owner, name) => pluginUsers(db, owner, name),
    deleteTemplate: (id) => deleteTemplate(db, id),
    listTemplateSubscribers: (templateId) => templateSubscribers(db, templateId),
    releaseName: (kind, id) => releaseName(db, kind, id),
    recordServed: (day, served) => recordServed(db, day, served),
  };
}
