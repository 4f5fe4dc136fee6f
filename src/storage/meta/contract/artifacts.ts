// The metadata store contract: artifacts, pre-generation (run by runMetadataStoreSuite on every driver).
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { Code } from "../../../core/errors.js";
import type { ArtifactKey, Commit } from "../../../core/types.js";
import type { MetadataStore } from "../metadata-store.js";
import { hex, isCode, type Suite } from "./support.js";

export function artifactsCases(suite: Suite): void {
  describe("artifacts", () => {
    let store: MetadataStore;
    beforeEach(() => {
      store = suite.store();
    });

    const push = suite.push;

    async function fixture(): Promise<{ key: ArtifactKey; commit: Commit; templateId: string }> {
      const commit = await push("acme", "app");
      const t = await store.createTemplate({
        owner: "acme",
        name: "ts",
        visibility: "public",
        plugins: [],
      });
      await store.createTemplateVersion(t.id, []);
      await store.createTemplateVersion(t.id, []);
      const key: ArtifactKey = {
        templateId: t.id,
        templateVersion: 1,
        commitId: commit.id,
        scope: "module",
        flavour: "archive",
      };
      return { key, commit, templateId: t.id };
    }
    const body = (key: ArtifactKey, blob = `sha256/cc/${hex(32)}`) => ({
      ...key,
      blob,
      digest: `sha256:${hex(32)}`,
      size: 3_000_000_000,
      extra: { integrity: "sha512-abc" },
    });

    it("puts and gets an artifact, first writer wins", async () => {
      const { key } = await fixture();
      assert.equal(await store.getArtifact(key), undefined);
      const first = body(key);
      const stored = await store.putArtifact(first);
      assert.deepEqual(stored, { ...first, createdAt: stored.createdAt });
      assert.deepEqual(await store.getArtifact(key), stored);
      const again = await store.putArtifact(body(key));
      assert.deepEqual(again, stored);
    });

    it("lists and deletes artifacts by any part of the key", async () => {
      const { key, templateId } = await fixture();
      const other = await push("acme", "app");
      const keys: ArtifactKey[] = [
        key,
        { ...key, scope: "imports" },
        { ...key, flavour: "npm" },
        { ...key, templateVersion: 2 },
        { ...key, commitId: other.id },
      ];
      for (const k of keys) await store.putArtifact(body(k));
      assert.equal((await store.listArtifacts({})).length, 5);
      assert.equal((await store.listArtifacts({ templateId })).length, 5);
      assert.equal((await store.listArtifacts({ commitId: key.commitId })).length, 4);
      assert.equal((await store.listArtifacts({ commitId: key.commitId, templateVersion: 1 })).length, 3);
      assert.equal((await store.listArtifacts({ commitIds: [key.commitId, other.id] })).length, 5);
      assert.equal((await store.listArtifacts({ commitIds: [other.id], templateVersion: 1 })).length, 1);
      assert.deepEqual(await store.listArtifacts({ commitIds: [] }), []);
      // More ids than one statement takes: the same answer, in the same order.
      const many = [...Array.from({ length: 1200 }, () => hex(16)), key.commitId, other.id];
      assert.deepEqual(await store.listArtifacts({ commitIds: many }), await store.listArtifacts({}));
      assert.deepEqual(
        (await store.listArtifacts({ flavour: "npm" })).map((a) => a.flavour),
        ["npm"],
      );
      assert.deepEqual(
        (await store.listArtifacts({ scope: "imports" })).map((a) => a.scope),
        ["imports"],
      );

      assert.equal(await store.deleteArtifacts({ commitId: other.id }), 1);
      assert.equal(await store.deleteArtifacts({ commitId: other.id }), 0);
      assert.equal(await store.deleteArtifacts({ templateVersion: 1, scope: "module" }), 2);
      assert.equal(await store.getArtifact(key), undefined);
      assert.equal((await store.listArtifacts({})).length, 2);
      assert.equal(await store.deleteArtifacts({}), 2);
    });

    it("refuses an artifact of an unknown commit", async () => {
      const { key } = await fixture();
      await assert.rejects(store.putArtifact(body({ ...key, commitId: hex(16) })), isCode(Code.NotFound));
    });
  });
}

export function preGenerationCases(suite: Suite): void {
  describe("pre-generation", () => {
    let store: MetadataStore;
    beforeEach(() => {
      store = suite.store();
    });

    const push = suite.push;

    it("replaces a module's template list, keeps its order, and unsubscribes with an empty one", async () => {
      const c = await push("acme", "pre");
      const a = await store.createTemplate({ owner: "acme", name: "a", visibility: "public", plugins: [] });
      const b = await store.createTemplate({ owner: "acme", name: "b", visibility: "public", plugins: [] });
      assert.deepEqual(await store.listPregenerate(c.moduleId), []);
      await store.setPregenerate(c.moduleId, [b.id, a.id]);
      assert.deepEqual(
        (await store.listPregenerate(c.moduleId)).map((t) => t.name),
        ["b", "a"],
      );
      await store.setPregenerate(c.moduleId, [a.id]);
      assert.deepEqual(await store.listPregenerate(c.moduleId), [a]);
      await store.setPregenerate(c.moduleId, []);
      assert.deepEqual(await store.listPregenerate(c.moduleId), []);
    });

    it("replaces an owner's template list the same way, apart from its modules' lists", async () => {
      const olive = await store.createUser({ name: "olive", isAdmin: false });
      await store.createOrganization({ name: "preorg", ownerUserId: olive.id });
      const c = await push("preorg", "pre-owner");
      const template = (name: string) =>
        store.createTemplate({ owner: "preorg", name, visibility: "public", plugins: [] });
      const a = await template("oa");
      const b = await template("ob");
      assert.deepEqual(await store.listOwnerPregenerate("preorg"), []);
      await store.setOwnerPregenerate("preorg", [b.id, a.id, b.id]);
      assert.deepEqual(
        (await store.listOwnerPregenerate("preorg")).map((t) => t.name),
        ["ob", "oa"],
      );
      assert.deepEqual(await store.listPregenerate(c.moduleId), []);
      await assert.rejects(store.setOwnerPregenerate("nobody", [a.id]));
      await store.setOwnerPregenerate("preorg", []);
      assert.deepEqual(await store.listOwnerPregenerate("preorg"), []);
    });
  });
}
