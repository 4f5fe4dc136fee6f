// Deleting plugins and templates over fakes: owners only, refused while templates use the plugin or modules
// pre-generate with the template (naming what the caller may see), refused while served, audited.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, isRegistryError, RegistryError } from "../../core/errors.js";
import type { Module, Plugin, Template, User } from "../../core/types.js";
import type { Principal } from "../auth.js";
import { createDeletionService, type DeletionServiceOptions } from "./deletion.js";

const olivia: User = { id: "u1", name: "olivia", isAdmin: false, createdAt: "" };
const walt: User = { id: "u2", name: "walt", isAdmin: false, createdAt: "" };
const as = (user: User): Principal => ({ user, roles: new Map() });

const plugin: Plugin = { id: "p1", owner: "acme", name: "gen", visibility: "public", createdAt: "" };
const template = (name: string, visibility: "public" | "private" = "public"): Template => ({
  id: name,
  owner: "acme",
  name,
  visibility,
  plugins: [{ owner: "acme", name: "gen", parameter: "" }],
  createdAt: "",
});

function fixture(o: { users?: Template[]; modules?: Module[]; servedOn?: string; days?: number } = {}) {
  const plugins = new Map([["gen", { ...plugin }]]);
  const templates = new Map([
    ["ts", { ...template("ts"), ...(o.servedOn ? { lastServedOn: o.servedOn } : {}) }],
  ]);
  const events: string[] = [];
  const opts: DeletionServiceOptions = {
    meta: {
      getPlugin: async (_owner, name) => plugins.get(name),
      getTemplate: async (_owner, name) => templates.get(name),
      deletePlugin: async (id) => {
        if ((o.users ?? []).length > 0) return "has-dependents";
        const p = [...plugins.values()].find((x) => x.id === id);
        if (!p || p.deletedAt) return "missing";
        p.deletedAt = "2026-05-10T00:00:00.000Z";
        return "deleted";
      },
      listPluginUsers: async () => o.users ?? [],
      deleteTemplate: async (id) => {
        if ((o.modules ?? []).length > 0) return "has-dependents";
        const t = templates.get(id);
        if (!t || t.deletedAt) return "missing";
        t.deletedAt = "2026-05-10T00:00:00.000Z";
        return "deleted";
      },
      listTemplateSubscribers: async () => ({ modules: o.modules ?? [], owners: [] }),
    },
    access: {
      requireManage: async (principal, owner, op) => {
        if (principal.user?.name !== "olivia")
          throw new RegistryError(Code.PermissionDenied, `may not ${op} of ${owner}`);
        return principal.user;
      },
      readOwned: async (_p, thing, missing) => {
        if (!thing) throw missing();
        return thing;
      },
      canRead: async (_p, thing) => thing.visibility === "public",
    },
    quarantine: { public: "forever", private: 30 },
    refuseIfServedWithinDays: o.days ?? 0,
    audit: {
      record: async (_p, e) => {
        events.push(`${e.action} ${e.target}`);
      },
    },
    now: () => Date.parse("2026-05-10T12:00:00Z"),
  };
  return { deletion: createDeletionService(opts), plugins, templates, events };
}

describe("deleting plugins and templates", () => {
  it("deletes a plugin for owners only, once, and audits it", async () => {
    const { deletion, plugins, events } = fixture();
    await assert.rejects(deletion.deletePlugin(as(walt), "acme/gen"), (e) =>
      isRegistryError(e, Code.PermissionDenied),
    );
    await deletion.deletePlugin(as(olivia), "acme/gen");
    assert.ok(plugins.get("gen")?.deletedAt);
    assert.deepEqual(events, ["plugin.delete acme/gen"]);
    await assert.rejects(deletion.deletePlugin(as(olivia), "acme/gen"), (e) => {
      assert.ok(isRegistryError(e, Code.Gone));
      assert.match(e.message, /plugin acme\/gen was deleted; its name stays reserved for good/);
      return true;
    });
  });

  it("refuses a plugin templates use, naming those the caller may see", async () => {
    const { deletion, events } = fixture({ users: [template("ts"), template("secret", "private")] });
    await assert.rejects(deletion.deletePlugin(as(olivia), "acme/gen"), (e) => {
      assert.ok(isRegistryError(e, Code.FailedPrecondition));
      assert.match(e.message, /templates run it or pin one of its versions \(acme\/ts, 1 you cannot see\)/);
      return true;
    });
    assert.deepEqual(events, []);
  });

  it("refuses a template modules pre-generate with, naming them", async () => {
    const mod: Module = {
      id: "m",
      owner: "acme",
      name: "app",
      visibility: "public",
      defaultLabel: "main",
      createdAt: "",
    };
    const { deletion } = fixture({ modules: [mod] });
    await assert.rejects(deletion.deleteTemplate(as(olivia), "acme/ts"), (e) => {
      assert.ok(isRegistryError(e, Code.FailedPrecondition));
      assert.match(e.message, /pre-generated for modules acme\/app/);
      return true;
    });
  });

  it("refuses a template served within the configured days, and deletes one served before", async () => {
    const recent = fixture({ servedOn: "2026-05-09", days: 3 });
    await assert.rejects(recent.deletion.deleteTemplate(as(olivia), "acme/ts"), (e) => {
      assert.ok(isRegistryError(e, Code.FailedPrecondition));
      assert.match(e.message, /downloaded on 2026-05-09, within the last 3 days/);
      return true;
    });
    const old = fixture({ servedOn: "2026-05-01", days: 3 });
    await old.deletion.deleteTemplate(as(olivia), "acme/ts");
    assert.deepEqual(old.events, ["template.delete acme/ts"]);
  });
});
