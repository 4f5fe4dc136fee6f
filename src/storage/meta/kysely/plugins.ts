// Plugins and their versions.
import type { Kysely } from "kysely";
import { Code, RegistryError } from "../../../core/errors.js";
import type { Plugin, PluginVersion, Visibility } from "../../../core/types.js";
import type { PluginStore } from "../metadata-store.js";
import { deletedName, inTransaction, newId, now, selectPluginVersions } from "./common.js";
import { toPlugin, toPluginVersion } from "./rows.js";
import type { Database } from "./schema.js";
import { isUniqueViolation } from "./sql-errors.js";

async function createPlugin(
  db: Kysely<Database>,
  input: { owner: string; name: string; visibility: Visibility },
): Promise<Plugin> {
  const row = {
    id: newId(),
    owner: input.owner,
    name: input.name,
    visibility: input.visibility,
    version_count: 0,
    created_at: now(),
  };
  try {
    await db.insertInto("plugins").values(row).execute();
  } catch (err) {
    if (isUniqueViolation(err)) {
      const existing = await db
        .selectFrom("plugins")
        .select("deleted_at")
        .where("owner", "=", input.owner)
        .where("name", "=", input.name)
        .executeTakeFirst();
      if (existing?.deleted_at) throw deletedName("plugin", input.owner, input.name);
      throw new RegistryError(Code.AlreadyExists, `plugin ${input.owner}/${input.name} already exists`, {
        op: "createPlugin",
        plugin: `${input.owner}/${input.name}`,
      });
    }
    throw err;
  }
  return toPlugin(row);
}

/** A new version, in creation order after the plugin's others; AlreadyExists for a version taken. */
async function createPluginVersion(
  db: Kysely<Database>,
  input: Omit<PluginVersion, "pluginId" | "createdAt">,
): Promise<PluginVersion> {
  const plugin = `${input.owner}/${input.name}`;
  const fields = { op: "createPluginVersion", plugin } as const;
  return inTransaction(db, async (trx) => {
    // Taking the plugin's row lock first also allocates the version's position in creation order.
    const p = await trx
      .updateTable("plugins")
      .set((eb) => ({ version_count: eb("version_count", "+", 1) }))
      .where("owner", "=", input.owner)
      .where("name", "=", input.name)
      .returning(["id", "version_count", "deleted_at"])
      .executeTakeFirst();
    if (!p)
      throw new RegistryError(Code.NotFound, `plugin ${plugin} not found; create the plugin first`, fields);
    if (p.deleted_at) throw deletedName("plugin", input.owner, input.name);
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

export function createKyselyPluginStore(db: Kysely<Database>): PluginStore {
  return {
    createPlugin: (input) => createPlugin(db, input),

    async getPlugin(owner: string, name: string): Promise<Plugin | undefined> {
      const row = await db
        .selectFrom("plugins")
        .selectAll()
        .where("owner", "=", owner)
        .where("name", "=", name)
        .executeTakeFirst();
      return row && toPlugin(row);
    },

    async listPlugins(owner?: string): Promise<Plugin[]> {
      let q = db.selectFrom("plugins").selectAll().where("deleted_at", "is", null);
      if (owner !== undefined) q = q.where("owner", "=", owner);
      const rows = await q.orderBy("owner").orderBy("name").execute();
      return rows.map(toPlugin);
    },

    createPluginVersion: (input) => createPluginVersion(db, input),

    async getPluginVersion(owner: string, name: string, version: string): Promise<PluginVersion | undefined> {
      const row = await selectPluginVersions(db)
        .where("p.owner", "=", owner)
        .where("p.name", "=", name)
        .where("v.version", "=", version)
        .executeTakeFirst();
      return row && toPluginVersion(row);
    },

    async listPluginVersions(owner: string, name: string): Promise<PluginVersion[]> {
      const rows = await selectPluginVersions(db)
        .where("p.owner", "=", owner)
        .where("p.name", "=", name)
        .orderBy("v.position")
        .execute();
      return rows.map(toPluginVersion);
    },
  };
}
