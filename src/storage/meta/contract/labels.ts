// The metadata store contract: labels (run by runMetadataStoreSuite on every driver).
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { Code, isRegistryError } from "../../../core/errors.js";
import type { MetadataStore } from "../metadata-store.js";
import { hex, isCode, type Suite } from "./support.js";

export function labelsCases(suite: Suite): void {
  describe("labels", () => {
    let store: MetadataStore;
    beforeEach(() => {
      store = suite.store();
    });

    const push = suite.push;

    it("creates, moves and upserts labels", async () => {
      const c1 = await push("acme", "app");
      const c2 = await push("acme", "app");
      const moduleId = c1.moduleId;

      const v1 = await store.setLabel(moduleId, "v1", c1.id, "create");
      assert.deepEqual(v1, { moduleId, name: "v1", commitId: c1.id, updatedAt: v1.updatedAt });
      assert.deepEqual(await store.getLabel(moduleId, "v1"), v1);
      await assert.rejects(store.setLabel(moduleId, "v1", c2.id, "create"), isCode(Code.AlreadyExists));

      const moved = await store.setLabel(moduleId, "v1", c2.id, "move");
      assert.equal(moved.commitId, c2.id);
      assert.equal((await store.getLabel(moduleId, "v1"))?.commitId, c2.id);
      await assert.rejects(store.setLabel(moduleId, "mian", c2.id, "move"), (err: unknown) => {
        assert.ok(isRegistryError(err, Code.NotFound));
        assert.match(err.message, /mian/);
        assert.match(err.message, /main, v1/);
        return true;
      });

      await store.setLabel(moduleId, "beta", c1.id, "upsert");
      assert.equal((await store.getLabel(moduleId, "beta"))?.commitId, c1.id);
      await store.setLabel(moduleId, "beta", c2.id, "upsert");
      assert.equal((await store.getLabel(moduleId, "beta"))?.commitId, c2.id);

      assert.deepEqual(
        (await store.listLabels(moduleId)).map((l) => [l.name, l.commitId]),
        [
          ["beta", c2.id],
          ["main", c2.id],
          ["v1", c2.id],
        ],
      );
    });

    it("archives a label (listed with its time, still read) and a push to it unarchives it", async () => {
      const c1 = await push("acme", "app");
      const moduleId = c1.moduleId;
      await store.setLabel(moduleId, "v1", c1.id, "create");
      const archived = await store.setLabelArchived(moduleId, "v1", true);
      assert.ok(archived?.archivedAt);
      assert.equal((await store.getLabel(moduleId, "v1"))?.archivedAt, archived.archivedAt);
      // Archiving again keeps the first time.
      assert.equal((await store.setLabelArchived(moduleId, "v1", true))?.archivedAt, archived.archivedAt);
      assert.equal(await store.setLabelArchived(moduleId, "nope", true), undefined);
      const unarchived = await store.setLabelArchived(moduleId, "v1", false);
      assert.equal(unarchived?.archivedAt, undefined);
      await store.setLabelArchived(moduleId, "main", true);
      const c2 = await push("acme", "app");
      const main = await store.getLabel(moduleId, "main");
      assert.equal(main?.commitId, c2.id);
      assert.equal(main?.archivedAt, undefined);
    });

    it("refuses unknown modules, unknown commits and commits of another module", async () => {
      const app = await push("acme", "app");
      const other = await push("acme", "other");
      await assert.rejects(store.setLabel(hex(16), "x", app.id, "upsert"), isCode(Code.NotFound));
      await assert.rejects(store.setLabel(app.moduleId, "x", hex(16), "upsert"), isCode(Code.NotFound));
      await assert.rejects(store.setLabel(app.moduleId, "x", other.id, "create"), isCode(Code.NotFound));
      assert.equal(await store.getLabel(app.moduleId, "x"), undefined);
    });
  });
}
