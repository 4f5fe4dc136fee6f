import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
