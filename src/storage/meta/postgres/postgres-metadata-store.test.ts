import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createTestDatabase, pgVariable, skipWithout } from "../../testing/services.js";
import type { MetadataStore } from "../metadata-store.js";
import { runMetadataStoreSuite } from "../metadata-store-suite.js";
import { createPostgresMetadataStore } from "./postgres-metadata-store.js";

describe("postgres metadata store", { skip: skipWithout(pgVariable) }, () => {
  // A fresh database per test: nothing one test writes is seen by the next.
  runMetadataStoreSuite("postgres", async () => {
    const db = await createTestDatabase();
    const open = () => createPostgresMetadataStore({ url: db.url, poolSize: 4 });
    const opened: MetadataStore[] = [await open()];
    return {
      store: opened[0] as MetadataStore,
      async reopen() {
        const store = await open();
        opened.push(store);
        return store;
      },
      async cleanup() {
        for (const store of opened) await store.close();
        await db.drop();
      },
    };
  });

  it("migrates once when several nodes start together", async () => {
    const db = await createTestDatabase();
    try {
      const stores = await Promise.all(
        Array.from({ length: 4 }, () => createPostgresMetadataStore({ url: db.url, poolSize: 2 })),
      );
      const [first, second] = stores;
      assert.ok(first && second);
      const alice = await first.createUser({ name: "alice", isAdmin: false });
      assert.deepEqual(await second.getUserByName("alice"), alice);
      for (const store of stores) await store.close();
    } finally {
      await db.drop();
    }
  });

  it("wakes another node's waiter by notification, long before its poll interval", async () => {
    const db = await createTestDatabase();
    // A poll interval longer than the test may take: only a notification can wake the waiter in time.
    const open = () => createPostgresMetadataStore({ url: db.url, poolSize: 2, leasePollMs: 600_000 });
    const [a, b] = [await open(), await open()];
    try {
      const lease = await a.acquireLease("k", "node-a", 60_000);
      assert.ok(lease);
      const waited = b.waitForLease("k", 30_000);
      // The waiter has subscribed; the release commits on the other node.
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(await a.transaction((tx) => tx.releaseLease(lease)), true);
      let timer: NodeJS.Timeout | undefined;
      const tooLate = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("the waiter sat out its poll interval")), 60_000);
      });
      await Promise.race([waited, tooLate]).finally(() => clearTimeout(timer));
      assert.ok(await b.acquireLease("k", "node-b", 60_000));
    } finally {
      await a.close();
      await b.close();
      await db.drop();
    }
  });

  it("tells the other nodes of a write at once, and not itself", async () => {
    const db = await createTestDatabase();
    const [a, b, c] = [
      await createPostgresMetadataStore({ url: db.url, poolSize: 2 }),
      await createPostgresMetadataStore({ url: db.url, poolSize: 2 }),
      await createPostgresMetadataStore({ url: db.url, poolSize: 2 }),
    ];
    try {
      const heard = { a: 0, b: 0, c: 0 };
      a.peers?.subscribe(() => heard.a++);
      b.peers?.subscribe(() => heard.b++);
      c.peers?.subscribe(() => heard.c++);
      // Nothing but the notification tells them: without it they never hear (the deadline only ends the wait).
      const deadline = Date.now() + 60_000;
      await a.peers?.publish();
      while (heard.b === 0 || heard.c === 0) {
        assert.ok(Date.now() < deadline, "the other nodes never heard of the write");
        await new Promise((r) => setTimeout(r, 10));
      }
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(heard, { a: 0, b: 1, c: 1 });
    } finally {
      for (const s of [a, b, c]) await s.close();
      await db.drop();
    }
  });

  it("fails at start with the server's reason", async () => {
    const db = await createTestDatabase();
    await db.drop();
    await assert.rejects(createPostgresMetadataStore({ url: db.url, poolSize: 1 }), /does not exist/);
  });
});
