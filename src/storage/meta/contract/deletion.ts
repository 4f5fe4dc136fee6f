// The metadata store contract: deleting plugins and templates, name quarantine, last-served days (run by
// runMetadataStoreSuite on every driver).
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { Code } from "../../../core/errors.js";
import type { PluginVersion } from "../../../core/types.js";
import type { MetadataStore } from "../metadata-store.js";
import { hex, isCode, type Suite } from "./support.js";

export function deletionCases(suite: Suite): void {
  describe("deletion", () => {
    let store: MetadataStore;
    beforeEach(() => {
      store = suite.store();
    });
    const push = suite.push;

    const esVersion = (name: string): Omit<PluginVersion, "pluginId" | "createdAt"> => ({
      owner: "acme",
      name,
      version: "v1.0.0",
      source: { kind: "host", command: ["protoc-gen-es"] },
      runtimeLibraries: {},
      registryOptions: {},
    });

    it("deletes a plugin no template runs or pins, keeping its rows, and refuses its name", async () => {
      const gen = await store.createPlugin({ owner: "acme", name: "gen", visibility: "public" });
      // A name that contains the other's ("gen" in "gen-extra") is not a user of it.
      await store.createPlugin({ owner: "acme", name: "gen-extra", visibility: "public" });
      await store.createPluginVersion(esVersion("gen"));
      const t = await store.createTemplate({
        owner: "acme",
        name: "ts",
        visibility: "public",
        plugins: [{ owner: "acme", name: "gen", parameter: "" }],
      });
      await store.createTemplateVersion(t.id, [{ owner: "acme", name: "gen", version: "v1.0.0" }]);
      assert.deepEqual(
        (await store.listPluginUsers("acme", "gen")).map((u) => u.name),
        ["ts"],
      );
      assert.deepEqual(await store.listPluginUsers("acme", "gen-extra"), []);
      assert.equal(await store.deletePlugin(gen.id), "has-dependents");
      assert.equal((await store.getPlugin("acme", "gen"))?.deletedAt, undefined);

      assert.equal(await store.deleteTemplate(t.id), "deleted");
      assert.equal(await store.deleteTemplate(t.id), "missing");
      assert.ok((await store.getTemplate("acme", "ts"))?.deletedAt);
      assert.deepEqual(await store.listTemplates("acme"), []);
      await assert.rejects(store.createTemplateVersion(t.id, []), isCode(Code.Gone));
      // A deleted template holds nothing back.
      assert.deepEqual(await store.listPluginUsers("acme", "gen"), []);
      assert.equal(await store.deletePlugin(gen.id), "deleted");
      assert.equal(await store.deletePlugin(gen.id), "missing");
      assert.ok((await store.getPlugin("acme", "gen"))?.deletedAt);
      assert.deepEqual(
        (await store.listPlugins("acme")).map((p) => p.name),
        ["gen-extra"],
      );
      // Its versions stay; no new one lands; the name is refused.
      assert.equal((await store.listPluginVersions("acme", "gen")).length, 1);
      await assert.rejects(
        store.createPluginVersion({ ...esVersion("gen"), version: "v2.0.0" }),
        isCode(Code.Gone),
      );
      await assert.rejects(
        store.createPlugin({ owner: "acme", name: "gen", visibility: "public" }),
        isCode(Code.Gone),
      );
      await assert.rejects(
        store.createTemplate({ owner: "acme", name: "ts", visibility: "public", plugins: [] }),
        isCode(Code.Gone),
      );
    });

    it("refuses to delete a template that modules or owners pre-generate with", async () => {
      const olive = await store.createUser({ name: "olive", isAdmin: false });
      await store.createOrganization({ name: "delorg", ownerUserId: olive.id });
      const c = await push("delorg", "pre");
      const t = await store.createTemplate({
        owner: "delorg",
        name: "t",
        visibility: "public",
        plugins: [],
      });
      await store.setPregenerate(c.moduleId, [t.id]);
      await store.setOwnerPregenerate("delorg", [t.id]);
      const subscribers = await store.listTemplateSubscribers(t.id);
      assert.deepEqual(
        { modules: subscribers.modules.map((m) => m.name), owners: subscribers.owners },
        { modules: ["pre"], owners: ["delorg"] },
      );
      assert.equal(await store.deleteTemplate(t.id), "has-dependents");
      await store.setPregenerate(c.moduleId, []);
      assert.equal(await store.deleteTemplate(t.id), "has-dependents");
      await store.setOwnerPregenerate("delorg", []);
      assert.equal(await store.deleteTemplate(t.id), "deleted");
    });

    it("frees a deleted name once released, keeping the old rows under another name", async () => {
      const old = await push("acme", "app");
      const mod = await store.getModule("acme", "app");
      assert.ok(mod);
      assert.equal(await store.releaseName("module", mod.id), false);
      assert.equal(await store.deleteModule(mod.id), "deleted");
      assert.equal(await store.releaseName("module", mod.id), true);
      assert.equal(await store.releaseName("module", mod.id), false);
      assert.equal(await store.getModule("acme", "app"), undefined);
      const again = await store.createModule({
        owner: "acme",
        name: "app",
        visibility: "private",
        defaultLabel: "main",
      });
      assert.notEqual(again.id, mod.id);
      // The old module's commits stay where they were.
      assert.equal((await store.getCommit(old.id))?.moduleId, mod.id);
      assert.equal((await store.getModuleById(mod.id))?.name, `app~${mod.id}`);

      const p = await store.createPlugin({ owner: "acme", name: "gen", visibility: "public" });
      assert.equal(await store.deletePlugin(p.id), "deleted");
      assert.equal(await store.releaseName("plugin", p.id), true);
      assert.notEqual(
        (await store.createPlugin({ owner: "acme", name: "gen", visibility: "public" })).id,
        p.id,
      );
      const t = await store.createTemplate({ owner: "acme", name: "t", visibility: "public", plugins: [] });
      assert.equal(await store.deleteTemplate(t.id), "deleted");
      assert.equal(await store.releaseName("template", t.id), true);
      await store.createTemplate({ owner: "acme", name: "t", visibility: "public", plugins: [] });
    });

    it("records the day artifacts were last served, never moving it back", async () => {
      const c = await push("acme", "served");
      const t = await store.createTemplate({ owner: "acme", name: "t", visibility: "public", plugins: [] });
      await store.recordServed("2026-03-02", { commitIds: [c.id, hex(16)], templateIds: [t.id] });
      assert.equal((await store.getModuleById(c.moduleId))?.lastServedOn, "2026-03-02");
      assert.equal((await store.getTemplate("acme", "t"))?.lastServedOn, "2026-03-02");
      await store.recordServed("2026-03-01", { commitIds: [c.id], templateIds: [t.id] });
      assert.equal((await store.getModuleById(c.moduleId))?.lastServedOn, "2026-03-02");
      await store.recordServed("2026-03-05", { commitIds: [c.id], templateIds: [] });
      assert.equal((await store.getModuleById(c.moduleId))?.lastServedOn, "2026-03-05");
      await store.recordServed("2026-03-06", { commitIds: [], templateIds: [] });
    });
  });
}
