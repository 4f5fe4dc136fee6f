// The metadata store contract: transactions across stores, leases (run by runMetadataStoreSuite on every driver).
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import type { MetadataStore } from "../metadata-store.js";
import { newCommit, type Suite } from "./support.js";

export function transactionsAcrossStoresCases(suite: Suite): void {
  describe("transactions across stores", () => {
    let store: MetadataStore;
    beforeEach(() => {
      store = suite.store();
    });

    it("commits every store's writes together, or none of them", async () => {
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.createUser({ name: "alice", isAdmin: false });
          await tx.createPlugin({ owner: "alice", name: "es", visibility: "public" });
          // A method with a transaction of its own joins this one.
          await tx.insertCommit(newCommit("alice", "app"));
          throw new Error("changed my mind");
        }),
        /changed my mind/,
      );
      assert.equal(await store.getUserByName("alice"), undefined);
      assert.equal(await store.getPlugin("alice", "es"), undefined);
      assert.equal(await store.getModule("alice", "app"), undefined);

      const user = await store.transaction(async (tx) => {
        const u = await tx.createUser({ name: "alice", isAdmin: false });
        await tx.createPlugin({ owner: "alice", name: "es", visibility: "public" });
        await tx.insertCommit(newCommit("alice", "app"));
        return u;
      });
      assert.deepEqual(await store.getUserByName("alice"), user);
      assert.ok(await store.getPlugin("alice", "es"));
      assert.equal((await store.getModule("alice", "app"))?.name, "app");
    });
  });
}

export function leasesCases(suite: Suite): void {
  describe("leases", () => {
    let store: MetadataStore;
    beforeEach(() => {
      store = suite.store();
    });

    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

    it("lets one holder at a time take a key, with a token that only grows", async () => {
      const a = await store.acquireLease("k", "node-a", 60_000);
      assert.deepEqual(a && { ...a, token: 0 }, { key: "k", holder: "node-a", token: 0 });
      assert.ok(a);
      assert.equal(await store.acquireLease("k", "node-b", 60_000), undefined);
      assert.ok(await store.acquireLease("other", "node-b", 60_000), "keys are independent");
      assert.equal(await store.renewLease(a, 60_000), true);
      assert.equal(await store.releaseLease(a), true);
      assert.equal(await store.releaseLease(a), false, "a lease ends once");
      // A new row's token is the database clock in ms (kysely/leases.ts): a row taken in the same millisecond as
      // the released one may repeat its token, which only a holder reusing its own name could confuse.
      await sleep(2);
      const b = await store.acquireLease("k", "node-b", 60_000);
      assert.equal(b?.holder, "node-b");
      assert.ok(b && b.token > a.token, `token ${b?.token} after ${a.token}`);
      // The old holder's lease can neither be renewed nor released again: the token fences it out.
      assert.equal(await store.renewLease(a, 60_000), false);
      assert.equal(await store.releaseLease({ ...a, holder: "node-b" }), false);
      assert.equal(await store.acquireLease("k", "node-a", 60_000), undefined);
    });

    it("gives an expired lease to the next holder and fences the stale one", async () => {
      const a = await store.acquireLease("k", "node-a", 150);
      assert.ok(a);
      assert.equal(await store.acquireLease("k", "node-b", 60_000), undefined);
      await sleep(250);
      const b = await store.acquireLease("k", "node-b", 60_000);
      assert.equal(b?.token, a.token + 1);
      assert.equal(await store.renewLease(a, 60_000), false);
      assert.equal(await store.releaseLease(a), false);
      assert.equal(await store.acquireLease("k", "node-c", 60_000), undefined, "b's lease is live");
    });

    it("keeps rows only for held leases: a release removes its row, idle ones are counted and pruned", async () => {
      const held = await store.acquireLease("held", "node-a", 60_000);
      const done = await store.acquireLease("done", "node-a", 60_000);
      assert.ok(held && done);
      assert.equal(await store.releaseLease(done), true);
      assert.equal(await store.countIdleLeases(0), 0, "a released lease leaves no row");
      // A holder that crashed: its lease expires and stays until pruned (or taken over).
      assert.ok(await store.acquireLease("crashed", "dead-node", 1));
      await sleep(20);
      assert.equal(await store.countIdleLeases(60_000), 0, "not yet expired for long enough");
      assert.equal(await store.countIdleLeases(0), 1);
      assert.equal(await store.pruneLeases(0), 1);
      assert.equal(await store.countIdleLeases(0), 0);
      assert.equal(await store.renewLease(held, 60_000), true, "a live lease is never pruned");
      const again = await store.acquireLease("done", "node-b", 60_000);
      assert.ok(again && again.token > done.token, "a new row's token is above the removed row's");
    });

    it("gives a free key to exactly one of many racing holders", async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.acquireLease("race", `node-${i}`, 60_000)),
      );
      assert.equal(results.filter((r) => r !== undefined).length, 1);
    });

    it("keeps the lease when the transaction that released it rolls back", async () => {
      const a = await store.acquireLease("k", "node-a", 60_000);
      assert.ok(a);
      await assert.rejects(
        store.transaction(async (tx) => {
          assert.equal(await tx.releaseLease(a), true);
          throw new Error("publish failed");
        }),
        /publish failed/,
      );
      assert.equal(await store.acquireLease("k", "node-b", 60_000), undefined);
      assert.equal(await store.transaction((tx) => tx.releaseLease(a)), true);
      assert.ok(await store.acquireLease("k", "node-b", 60_000));
    });

    it("wakes a waiter after a release, at the latest after its timeout, and stops on abort", async () => {
      const a = await store.acquireLease("k", "node-a", 60_000);
      assert.ok(a);
      const started = Date.now();
      const waited = store.waitForLease("k", 5_000);
      setTimeout(() => void store.releaseLease(a), 50);
      await waited;
      assert.ok(Date.now() - started < 4_000, "a release (or a poll after it) ends the wait");

      const short = Date.now();
      await store.waitForLease("never-released", 100);
      assert.ok(Date.now() - short < 2_000);

      const controller = new AbortController();
      const aborted = store.waitForLease("k2", 60_000, controller.signal);
      controller.abort(new Error("caller left"));
      await assert.rejects(aborted, /caller left/);
    });
  });
}
