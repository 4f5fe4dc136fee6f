// The metadata store contract: per-owner quotas and the counts they bound (run by runMetadataStoreSuite).
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import type { MetadataStore } from "../metadata-store.js";
import type { Suite } from "./support.js";

export function quotaCases(suite: Suite): void {
  describe("quotas", () => {
    let store: MetadataStore;
    beforeEach(() => {
      store = suite.store();
    });

    it("keeps an owner's quota, replacing it whole, and none for others", async () => {
      await store.createUser({ name: "alice", isAdmin: false });
      assert.equal(await store.getQuota("alice"), undefined);
      const none = { modules: null, commitsPerDay: null, imageBytes: null, images: null };
      await store.setQuota("alice", { ...none, modules: 3 });
      assert.deepEqual(await store.getQuota("alice"), { ...none, modules: 3 });
      await store.setQuota("alice", { ...none, commitsPerDay: 50 });
      assert.deepEqual(await store.getQuota("alice"), { ...none, commitsPerDay: 50 });
      assert.equal(await store.getQuota("bob"), undefined);
    });

    it("keeps image quotas past 32 bits as numbers, 0 apart from null", async () => {
      await store.createUser({ name: "alice", isAdmin: false });
      const big = 64 * 1024 ** 3;
      await store.setQuota("alice", { modules: null, commitsPerDay: 7, imageBytes: big, images: 0 });
      assert.deepEqual(await store.getQuota("alice"), {
        modules: null,
        commitsPerDay: 7,
        imageBytes: big,
        images: 0,
      });
      await store.setQuota("alice", { modules: null, commitsPerDay: 7, imageBytes: 0, images: null });
      assert.deepEqual(await store.getQuota("alice"), {
        modules: null,
        commitsPerDay: 7,
        imageBytes: 0,
        images: null,
      });
    });

    it("counts an owner's modules, deleted ones too, and its commits since a time", async () => {
      await store.createUser({ name: "alice", isAdmin: false });
      const before = new Date(Date.now() - 1000).toISOString();
      await suite.push("alice", "one");
      await suite.push("alice", "one");
      await suite.push("alice", "two");
      await suite.push("bob", "three");
      const empty = await store.createModule({
        owner: "alice",
        name: "empty",
        visibility: "public",
        defaultLabel: "main",
      });
      assert.equal(await store.deleteEmptyModule(empty.id), true);
      const gone = await suite.push("alice", "gone");
      assert.equal(await store.deleteModule(gone.moduleId), "deleted");
      // The removed empty module is not counted; the deleted one still holds its name.
      assert.equal(await store.countModules("alice"), 3);
      assert.equal(await store.countModules("bob"), 1);
      assert.equal(await store.countCommitsSince("alice", before), 4);
      assert.equal(await store.countCommitsSince("alice", new Date(Date.now() + 60_000).toISOString()), 0);
      assert.equal(await store.countCommitsSince("carol", before), 0);
    });
  });
}
