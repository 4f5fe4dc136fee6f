// The metadata store contract: plugins, templates (run by runMetadataStoreSuite on every driver).
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { Code, isRegistryError } from "../../../core/errors.js";
import type { PluginVersion } from "../../../core/types.js";
import type { MetadataStore } from "../metadata-store.js";
import { hex, isCode, type Suite } from "./support.js";

export function pluginsCases(suite: Suite): void {
  describe("plugins", () => {
    let store: MetadataStore;
    beforeEach(() => {
      store = suite.store();
    });

    const version = (v: string): Omit<PluginVersion, "pluginId" | "createdAt"> => ({
      owner: "bufbuild",
      name: "es",
      version: v,
      source: { kind: "host", command: ["protoc-gen-es"] },
      runtimeLibraries: { npm: [{ package: "@bufbuild/protobuf", version: "^2.2.0" }] },
      registryOptions: { npm: { importStyle: "module" } },
    });

    it("creates, gets and lists plugins", async () => {
      const es = await store.createPlugin({ owner: "bufbuild", name: "es", visibility: "public" });
      const go = await store.createPlugin({ owner: "acme", name: "go", visibility: "private" });
      assert.equal(es.owner, "bufbuild");
      assert.equal(go.visibility, "private");
      assert.deepEqual(await store.getPlugin("bufbuild", "es"), es);
      assert.equal(await store.getPlugin("bufbuild", "go"), undefined);
      assert.deepEqual(await store.listPlugins(), [go, es]);
      assert.deepEqual(await store.listPlugins("bufbuild"), [es]);
      await assert.rejects(
        store.createPlugin({ owner: "bufbuild", name: "es", visibility: "public" }),
        isCode(Code.AlreadyExists),
      );
    });

    it("creates plugin versions and lists them in creation order", async () => {
      const es = await store.createPlugin({ owner: "bufbuild", name: "es", visibility: "public" });
      const v2 = await store.createPluginVersion(version("v2.2.0"));
      const v1 = await store.createPluginVersion(version("v1.10.0"));
      assert.equal(v2.pluginId, es.id);
      assert.deepEqual({ ...v2, createdAt: "" }, { ...version("v2.2.0"), pluginId: es.id, createdAt: "" });
      assert.deepEqual(await store.getPluginVersion("bufbuild", "es", "v2.2.0"), v2);
      assert.equal(await store.getPluginVersion("bufbuild", "es", "v9.0.0"), undefined);
      assert.deepEqual(await store.listPluginVersions("bufbuild", "es"), [v2, v1]);
      assert.deepEqual(await store.listPluginVersions("bufbuild", "nope"), []);
    });

    it("refuses a duplicate version and a version of an unknown plugin", async () => {
      await store.createPlugin({ owner: "bufbuild", name: "es", visibility: "public" });
      await store.createPluginVersion(version("v2.2.0"));
      await assert.rejects(store.createPluginVersion(version("v2.2.0")), (err: unknown) => {
        assert.ok(isRegistryError(err, Code.AlreadyExists));
        assert.match(err.message, /bufbuild\/es v2\.2\.0/);
        return true;
      });
      await assert.rejects(
        store.createPluginVersion({ ...version("v1.0.0"), name: "missing" }),
        isCode(Code.NotFound),
      );
      assert.equal((await store.listPluginVersions("bufbuild", "es")).length, 1);
    });
  });
}

export function templatesCases(suite: Suite): void {
  describe("templates", () => {
    let store: MetadataStore;
    beforeEach(() => {
      store = suite.store();
    });

    const plugins = [
      { owner: "bufbuild", name: "es", parameter: "target=ts" },
      { owner: "connectrpc", name: "es", parameter: "" },
    ];
    const pins = (n: number) => [
      { owner: "bufbuild", name: "es", version: `v2.${n}.0` },
      { owner: "connectrpc", name: "es", version: "v1.0.0" },
    ];

    it("creates, gets and lists templates", async () => {
      const t = await store.createTemplate({ owner: "acme", name: "ts", visibility: "public", plugins });
      const u = await store.createTemplate({
        owner: "acme",
        name: "go",
        visibility: "private",
        plugins: [],
      });
      assert.deepEqual(t.plugins, plugins);
      assert.deepEqual(await store.getTemplate("acme", "ts"), t);
      assert.equal(await store.getTemplate("acme", "py"), undefined);
      assert.deepEqual(await store.listTemplates(), [u, t]);
      assert.deepEqual(await store.listTemplates("other"), []);
      await assert.rejects(
        store.createTemplate({ owner: "acme", name: "ts", visibility: "public", plugins }),
        isCode(Code.AlreadyExists),
      );
    });

    it("numbers versions 1, 2, … per template", async () => {
      const t = await store.createTemplate({ owner: "acme", name: "ts", visibility: "public", plugins });
      const other = await store.createTemplate({
        owner: "acme",
        name: "go",
        visibility: "public",
        plugins,
      });
      const v1 = await store.createTemplateVersion(t.id, pins(1));
      const v2 = await store.createTemplateVersion(t.id, pins(2));
      const o1 = await store.createTemplateVersion(other.id, pins(3));
      assert.deepEqual([v1.number, v2.number, o1.number], [1, 2, 1]);
      assert.deepEqual(v2.plugins, pins(2));
      assert.deepEqual(await store.getTemplateVersion(t.id, 2), v2);
      assert.equal(await store.getTemplateVersion(t.id, 3), undefined);
      assert.deepEqual(await store.listTemplateVersions(t.id), [v1, v2]);
      await assert.rejects(store.createTemplateVersion(hex(16), pins(1)), isCode(Code.NotFound));
    });

    it("allocates dense numbers under concurrent creation", async () => {
      const t = await store.createTemplate({ owner: "acme", name: "ts", visibility: "public", plugins });
      const versions = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.createTemplateVersion(t.id, pins(i))),
      );
      assert.deepEqual(
        versions.map((v) => v.number).sort((a, b) => a - b),
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
    });
  });
}
