import assert from "node:assert/strict";
import { chmod, mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { MetadataStore } from "../metadata-store.js";
import { runMetadataStoreSuite } from "../metadata-store-suite.js";
import { createSqliteMetadataStore } from "./sqlite-metadata-store.js";

runMetadataStoreSuite("sqlite", async () => {
  const dir = await mkdtemp(join(tmpdir(), "protodepot-sqlite-"));
  // A nested path also checks that the parent directory is created.
  const path = join(dir, "nested", "metadata.sqlite");
  const store = await createSqliteMetadataStore({ path });
  const opened: MetadataStore[] = [store];
  return {
    store,
    async reopen() {
      const store = await createSqliteMetadataStore({ path });
      opened.push(store);
      return store;
    },
    async cleanup() {
      for (const store of opened) await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe("sqlite files", () => {
  const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

  it("creates the database, -wal and -shm 0600 and its directory 0700 even under umask 000", async () => {
    const dir = await mkdtemp(join(tmpdir(), "protodepot-sqlite-"));
    const umask = process.umask(0);
    try {
      const path = join(dir, "data", "metadata.sqlite");
      const store = await createSqliteMetadataStore({ path });
      try {
        await store.createUser({ name: "alice", isAdmin: false });
        // WAL mode keeps -wal and -shm beside the database while it is open.
        assert.deepEqual((await readdir(join(dir, "data"))).sort(), [
          "metadata.sqlite",
          "metadata.sqlite-shm",
          "metadata.sqlite-wal",
        ]);
        for (const file of ["metadata.sqlite", "metadata.sqlite-shm", "metadata.sqlite-wal"]) {
          assert.equal(await modeOf(join(dir, "data", file)), 0o600, file);
        }
        assert.equal(await modeOf(join(dir, "data")), 0o700);
      } finally {
        await store.close();
      }
    } finally {
      process.umask(umask);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("tightens a database an older version left readable by others", async () => {
    const dir = await mkdtemp(join(tmpdir(), "protodepot-sqlite-"));
    try {
      const path = join(dir, "metadata.sqlite");
      await (await createSqliteMetadataStore({ path })).close();
      await chmod(path, 0o644);
      await (await createSqliteMetadataStore({ path })).close();
      assert.equal(await modeOf(path), 0o600);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
