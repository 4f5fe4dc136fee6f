// Templates and their versions.
import type { Kysely } from "kysely";
import { Code, RegistryError } from "../../../core/errors.js";
import type { Template, TemplateVersion } from "../../../core/types.js";
import type { TemplateStore } from "../metadata-store.js";
import { deletedName, inTransaction, newId, now } from "./common.js";
import { toTemplate, toTemplateVersion } from "./rows.js";
import type { Database } from "./schema.js";
import { isUniqueViolation } from "./sql-errors.js";

async function createTemplate(
  db: Kysely<Database>,
  input: Omit<Template, "id" | "createdAt" | "deletedAt" | "lastServedOn">,
): Promise<Template> {
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
    await db.insertInto("templates").values(row).execute();
  } catch (err) {
    if (isUniqueViolation(err)) {
      const existing = await db
        .selectFrom("templates")
        .select("deleted_at")
        .where("owner", "=", input.owner)
        .where("name", "=", input.name)
        .executeTakeFirst();
      if (existing?.deleted_at) throw deletedName("template", input.owner, input.name);
      throw new RegistryError(Code.AlreadyExists, `template ${input.owner}/${input.name} already exists`, {
        op: "createTemplate",
        template: `${input.owner}/${input.name}`,
      });
    }
    throw err;
  }
  return toTemplate(row);
}

/** The template's next version number, taken under its row lock. */
async function createTemplateVersion(
  db: Kysely<Database>,
  templateId: string,
  plugins: TemplateVersion["plugins"],
  deprecation: string | undefined,
): Promise<TemplateVersion> {
  return inTransaction(db, async (trx) => {
    const t = await trx
      .updateTable("templates")
      .set((eb) => ({ last_version: eb("last_version", "+", 1) }))
      .where("id", "=", templateId)
      .returning(["last_version", "owner", "name", "deleted_at"])
      .executeTakeFirst();
    if (!t) {
      throw new RegistryError(Code.NotFound, `template id ${templateId} not found`, {
        op: "createTemplateVersion",
      });
    }
    if (t.deleted_at) throw deletedName("template", t.owner, t.name);
    const row = {
      template_id: templateId,
      number: t.last_version,
      plugins: JSON.stringify(plugins),
      created_at: now(),
      deprecation: deprecation ?? null,
    };
    await trx.insertInto("template_versions").values(row).execute();
    return toTemplateVersion(row);
  });
}

export function createKyselyTemplateStore(db: Kysely<Database>): TemplateStore {
  return {
    createTemplate: (input) => createTemplate(db, input),

    async getTemplate(owner: string, name: string): Promise<Template | undefined> {
      const row = await db
        .selectFrom("templates")
        .selectAll()
        .where("owner", "=", owner)
        .where("name", "=", name)
        .executeTakeFirst();
      return row && toTemplate(row);
    },

    async listTemplates(owner?: string): Promise<Template[]> {
      let q = db.selectFrom("templates").selectAll().where("deleted_at", "is", null);
      if (owner !== undefined) q = q.where("owner", "=", owner);
      const rows = await q.orderBy("owner").orderBy("name").execute();
      return rows.map(toTemplate);
    },

    createTemplateVersion: (templateId, plugins, deprecation) =>
      createTemplateVersion(db, templateId, plugins, deprecation),

    async getTemplateVersion(templateId: string, number: number): Promise<TemplateVersion | undefined> {
      const row = await db
        .selectFrom("template_versions")
        .selectAll()
        .where("template_id", "=", templateId)
        .where("number", "=", number)
        .executeTakeFirst();
      return row && toTemplateVersion(row);
    },

    async listTemplateVersions(templateId: string): Promise<TemplateVersion[]> {
      const rows = await db
        .selectFrom("template_versions")
        .selectAll()
        .where("template_id", "=", templateId)
        .orderBy("number")
        .execute();
      return rows.map(toTemplateVersion);
    },
  };
}
