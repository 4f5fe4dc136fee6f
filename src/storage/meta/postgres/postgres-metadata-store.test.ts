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

  it("fails at start with the server's reason", async () => {
    const db = await createTestDatabase();
    await db.drop();
    await assert.rejects(createPostgresMetadataStore({ url: db.url, poolSize: 1 }), /does not exist/);
  });
});
