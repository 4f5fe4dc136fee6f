// Module visibility rules over fakes: public never depends on private, in either direction, and only owners decide.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, isRegistryError, RegistryError } from "../../core/errors.js";
import type { Module, User, Visibility } from "../../core/types.js";
import type { ModuleChange } from "../../storage/meta/metadata-store.js";
import type { AccessPolicy } from "../access.js";
import type { Principal } from "../auth.js";
import { createNameQuarantine } from "../lifecycle/quarantine.js";
import { createModuleSettings } from "./settings.js";

const olivia: User = { id: "u1", name: "olivia", isAdmin: false, createdAt: "" };
const walt: User = { id: "u2", name: "walt", isAdmin: false, createdAt: "" };
const as = (user: User): Principal => ({ user, roles: new Map() });
const mod = (name: string, visibility: Visibility): Module => ({
  id: name,
  owner: "acme",
  name,
  visibility,
  defaultLabel: "main",
  createdAt: "",
});

function fixture(
  graph: { dependents?: Module[]; dependencies?: Module[]; labels?: string[] } = {},
  lifecycle: Partial<Parameters<typeof createModuleSettings>[0]> = {},
) {
  const changes: [string, Visibility][] = [];
  const updates: [string, ModuleChange][] = [];
  const modules = new Map<string, Module>();
  // olivia owns acme, walt writes to it.
  const roles: Record<string, "owner" | "writer"> = { olivia: "owner", walt: "writer" };
  const require = (needed: "owner" | "writer") => async (principal: Principal, owner: string, op: string) => {
    const user = principal.user;
    const role = user ? roles[user.name] : undefined;
    if (!user || !role || (needed === "owner" && role !== "owner")) {
      throw new RegistryError(Code.PermissionDenied, `may not ${op} of ${owner}`);
    }
    return user;
  };
  const access: Pick<AccessPolicy, "requireWrite" | "requireManage" | "canRead"> = {
    requireWrite: require("writer"),
    requireManage: require("owner"),
    // Members read everything of acme; others only public modules.
    canRead: async (principal, thing) =>
      thing.visibility === "public" || (principal.user !== undefined && principal.user.name in roles),
  };
  const deleted: string[] = [];
  const settings = createModuleSettings({
    meta: {
      createModule: async (input) => {
        const created = { ...mod(input.name, input.visibility), defaultLabel: input.defaultLabel };
        modules.set(input.name, created);
        return created;
      },
      listDependents: async () => graph.dependents ?? [],
      listDependencies: async () => graph.dependencies ?? [],
      setVisibility: async (_kind, id, visibility) => {
        changes.push([id, visibility]);
      },
      updateModule: async (id, change) => {
        updates.push([id, change]);
      },
      deleteModule: async (id) => {
        const live = (graph.dependents ?? []).filter((m) => m.deletedAt === undefined);
        if (live.length > 0) return "has-dependents";
        deleted.push(id);
        return "deleted";
      },
      listLabels: async (moduleId) =>
        (graph.labels ?? []).map((name) => ({ moduleId, name, commitId: "c", updatedAt: "" })),
      getModule: async (_owner, name) => modules.get(name),
      getModuleById: async (id) => [...modules.values()].find((m) => m.id === id),
    },
    access,
    reads: {
      getModule: async (_p, name) => {
        const found = modules.get(name.name);
        if (!found) throw new RegistryError(Code.NotFound, `module acme/${name.name} does not exist`);
        return found;
      },
    },
    defaultVisibility: "public",
    ...lifecycle,
  });
  return { settings, modules, changes, updates, deleted };
}

const app = { owner: "acme", name: "app" };

describe("module settings", () => {
  it("creates a module with the default visibility and label unless given", async () => {
    const { settings } = fixture();
    const made = await settings.createModule(as(walt), app, {});
    assert.equal(made.visibility, "public");
    assert.equal(made.defaultLabel, "main");
    const other = await settings.createModule(
      as(walt),
      { owner: "acme", name: "b" },
      { visibility: "private" },
    );
    assert.equal(other.visibility, "private");
  });

  it("keeps a module with public dependents public, naming them", async () => {
    const { settings, modules, changes } = fixture({
      dependents: [mod("web", "public"), mod("tool", "private")],
    });
    modules.set("app", mod("app", "public"));
    await assert.rejects(settings.updateModule(as(olivia), app, { visibility: "private" }), (e) => {
      assert.ok(isRegistryError(e, Code.FailedPrecondition));
      assert.match(e.message, /cannot become private: public modules depend on it \(acme\/web\)/);
      return true;
    });
    assert.deepEqual(changes, []);
  });

  it("keeps a module with private dependencies private, naming them", async () => {
    const { settings, modules, changes } = fixture({ dependencies: [mod("secret", "private")] });
    modules.set("app", mod("app", "private"));
    await assert.rejects(settings.updateModule(as(olivia), app, { visibility: "public" }), (e) => {
      assert.ok(isRegistryError(e, Code.FailedPrecondition));
      assert.match(e.message, /cannot become public: it depends on private modules \(acme\/secret\)/);
      return true;
    });
    assert.deepEqual(changes, []);
  });

  it("changes visibility when nothing forbids it, and only for owners, even when unchanged", async () => {
    const { settings, modules, changes } = fixture({ dependents: [mod("tool", "private")] });
    modules.set("app", mod("app", "public"));
    await assert.rejects(settings.updateModule(as(walt), app, { visibility: "public" }), (e) =>
      isRegistryError(e, Code.PermissionDenied),
    );
    assert.equal(
      (await settings.updateModule(as(olivia), app, { visibility: "public" })).visibility,
      "public",
    );
    assert.deepEqual(changes, [], "an unchanged visibility writes nothing");
    assert.equal(
      (await settings.updateModule(as(olivia), app, { visibility: "private" })).visibility,
      "private",
    );
    assert.deepEqual(changes, [["app", "private"]]);
  });

  it("refuses a caller without the role before looking the module up", async () => {
    const { settings } = fixture();
    // acme/missing does not exist: the refusal is the same as for an existing module.
    await assert.rejects(
      settings.updateModule(as(walt), { owner: "acme", name: "missing" }, { visibility: "private" }),
      (e) => isRegistryError(e, Code.PermissionDenied),
    );
  });

  it("deprecates and undeprecates for owners only, with a message, writing nothing when refused", async () => {
    const { settings, modules, updates } = fixture();
    modules.set("app", mod("app", "public"));
    await assert.rejects(settings.updateModule(as(walt), app, { deprecation: "use acme/app2" }), (e) =>
      isRegistryError(e, Code.PermissionDenied),
    );
    await assert.rejects(settings.updateModule(as(walt), app, { deprecation: null }), (e) =>
      isRegistryError(e, Code.PermissionDenied),
    );
    assert.deepEqual(updates, []);
    const deprecated = await settings.updateModule(as(olivia), app, { deprecation: "use acme/app2" });
    assert.equal(deprecated.deprecation, "use acme/app2");
    modules.set("app", deprecated);
    const back = await settings.updateModule(as(olivia), app, { deprecation: null });
    assert.equal(back.deprecation, undefined);
    assert.deepEqual(updates, [
      ["app", { deprecation: "use acme/app2" }],
      ["app", { deprecation: null }],
    ]);
  });

  it("lets writers change description and default label; the label must exist once the module has labels", async () => {
    const { settings, modules, updates } = fixture({ labels: ["main", "stable"] });
    modules.set("app", mod("app", "public"));
    const changed = await settings.updateModule(as(walt), app, {
      description: "Orders",
      defaultLabel: "stable",
    });
    assert.equal(changed.description, "Orders");
    assert.equal(changed.defaultLabel, "stable");
    await assert.rejects(
      settings.updateModule(as(walt), app, { description: "x", defaultLabel: "mian" }),
      (e) => {
        assert.ok(isRegistryError(e, Code.FailedPrecondition));
        assert.match(e.message, /no label "mian" \(labels: main, stable\)/);
        return true;
      },
    );
    await assert.rejects(settings.updateModule(as(walt), app, { description: "x".repeat(351) }), (e) =>
      isRegistryError(e, Code.InvalidArgument),
    );
    assert.deepEqual(updates, [["app", { description: "Orders", defaultLabel: "stable" }]]);
  });

  it("deletes a module for owners only, refused while others depend on it, naming those the caller may see", async () => {
    const { settings, modules, deleted } = fixture({
      dependents: [
        mod("web", "public"),
        mod("secret", "private"),
        { ...mod("gone", "public"), deletedAt: "2026" },
      ],
    });
    modules.set("app", mod("app", "public"));
    await assert.rejects(settings.deleteModule(as(walt), app), (e) =>
      isRegistryError(e, Code.PermissionDenied),
    );
    await assert.rejects(settings.deleteModule(as(olivia), app), (e) => {
      assert.ok(isRegistryError(e, Code.FailedPrecondition));
      assert.match(
        e.message,
        /cannot be deleted: other modules depend on its commits \(acme\/web, acme\/secret\)/,
      );
      return true;
    });
    assert.deepEqual(deleted, []);
    const free = fixture();
    free.modules.set("app", mod("app", "private"));
    await free.settings.deleteModule(as(olivia), app);
    assert.deepEqual(free.deleted, ["app"]);
  });

  it("refuses deleting a module downloaded within the configured days, reading the day after a flush", async () => {
    const today = Date.parse("2026-05-10T12:00:00Z");
    let flushed = 0;
    const { settings, modules, deleted } = fixture(
      {},
      {
        refuseDeleteIfServedWithinDays: 7,
        servedDays: {
          flush: async () => {
            flushed++;
          },
        },
        now: () => today,
      },
    );
    modules.set("app", { ...mod("app", "public"), lastServedOn: "2026-05-03" });
    await assert.rejects(settings.deleteModule(as(olivia), app), (e) => {
      assert.ok(isRegistryError(e, Code.FailedPrecondition));
      assert.match(
        e.message,
        /acme\/app cannot be deleted: .* downloaded on 2026-05-03, within the last 7 days/,
      );
      return true;
    });
    assert.equal(flushed, 1);
    assert.deepEqual(deleted, []);
    // A day older than the window no longer counts.
    modules.set("app", { ...mod("app", "public"), lastServedOn: "2026-05-02" });
    await settings.deleteModule(as(olivia), app);
    assert.deepEqual(deleted, ["app"]);
  });

  it("creates a deleted module's name again only once its quarantine is over", async () => {
    let now = Date.parse("2026-05-10T00:00:00Z");
    const released: string[] = [];
    const quarantine = createNameQuarantine({
      meta: {
        releaseName: async (_kind, id) => {
          released.push(id);
          modules.delete("app");
          return true;
        },
      },
      policy: { public: "forever", private: 30 },
      now: () => now,
    });
    const { settings, modules } = fixture({}, { quarantine });
    modules.set("app", { ...mod("app", "private"), deletedAt: "2026-05-01T00:00:00.000Z" });
    await assert.rejects(settings.createModule(as(walt), app, {}), (e) => {
      assert.ok(isRegistryError(e, Code.Gone));
      assert.match(
        e.message,
        /module acme\/app was deleted; its name stays reserved until 2026-05-31 00:00 UTC/,
      );
      return true;
    });
    now = Date.parse("2026-05-31T00:00:01Z");
    const made = await settings.createModule(as(walt), app, { visibility: "public" });
    assert.equal(made.visibility, "public");
    assert.deepEqual(released, ["app"]);
    // A public module's name never comes back.
    modules.set("lib", { ...mod("lib", "public"), deletedAt: "2020-01-01T00:00:00.000Z" });
    await assert.rejects(settings.createModule(as(walt), { owner: "acme", name: "lib" }, {}), (e) => {
      assert.ok(isRegistryError(e, Code.Gone));
      assert.match(e.message, /stays reserved for good/);
      return true;
    });
  });
});
