// Start-up setup takes turns across nodes: over the real SQLite lease store, as two processes sharing it would.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { MetadataStore } from "../storage/meta/metadata-store.js";
import { createSqliteMetadataStore } from "../storage/meta/sqlite/sqlite-metadata-store.js";
import { startupLeaseKey, withStartupLease } from "./startup.js";

describe("start-up lease", () => {
  let dir: string;
  let meta: MetadataStore;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "protodepot-startup-"));
    meta = await createSqliteMetadataStore({ path: join(dir, "meta.sqlite"), leasePollMs: 10 });
  });
  after(async () => {
    await meta.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("runs the setups of nodes starting together one after the other, never interleaved", async () => {
    const events: string[] = [];
    let waited = 0;
    const node = (name: string) =>
      withStartupLease(
        meta,
        async () => {
          events.push(`${name} begins`);
          // Yield often, as real setup does between queries: an interleaving would show here.
          for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 5));
          events.push(`${name} ends`);
          return name;
        },
        { holder: name, onWait: () => waited++ },
      );
    assert.deepEqual(await Promise.all([node("a"), node("b"), node("c")]), ["a", "b", "c"]);
    assert.equal(events.length, 6);
    for (let i = 0; i < 6; i += 2) {
      assert.equal(events[i]?.replace(" begins", ""), events[i + 1]?.replace(" ends", ""), events.join(", "));
    }
    assert.equal(waited, 2);
  });

  it("releases the lease when setup fails, so the next node goes on", async () => {
    await assert.rejects(
      withStartupLease(meta, async () => {
        throw new Error("setup failed");
      }),
      /setup failed/,
    );
    const lease = await meta.acquireLease(startupLeaseKey, "next", 30_000);
    assert.ok(lease, "the failed node's lease was released");
    assert.equal(await meta.releaseLease(lease), true);
  });
});
