// The storage part of /healthz: a write probe and free space in each local directory, reported as degraded.
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createFsBlobStore } from "../storage/blob/fs/fs-blob-store.js";
import { createSqliteMetadataStore } from "../storage/meta/sqlite/sqlite-metadata-store.js";
import { createHealthCheck } from "./health.js";

test("health: low free space and an unwritable directory are degraded, not failures; probes leave nothing", async () => {
  const dir = await mkdtemp(join(tmpdir(), "protodepot-health-storage-"));
  try {
    const meta = await createSqliteMetadataStore({ path: join(dir, "meta.sqlite") });
    const blobs = await createFsBlobStore({ root: join(dir, "blobs"), fsync: false });
    const logged: string[] = [];
    const check = (dirs: string[], minFreeBytes: number) =>
      createHealthCheck({
        meta,
        blobs,
        timeoutMs: 2000,
        log: { warn: (_f, m) => logged.push(m) },
        storage: { dirs, minFreeBytes },
      }).check();
    const before = (await readdir(dir)).sort();
    assert.deepEqual(await check([dir], 1), { ok: true, problems: [] });
    assert.deepEqual(await check([dir], 0), { ok: true, problems: [] });
    assert.deepEqual(await check([dir], Number.MAX_SAFE_INTEGER), {
      ok: true,
      problems: [],
      degraded: ["low free space"],
    });
    assert.deepEqual((await readdir(dir)).sort(), before, "the probe file is removed");
    assert.deepEqual(logged, []);
    // A directory that cannot be written (here: missing) is reported, its reason logged.
    assert.deepEqual(await check([dir, join(dir, "missing")], 0), {
      ok: true,
      problems: [],
      degraded: ["storage not writable"],
    });
    assert.deepEqual(logged, ["storage write probe failed"]);
    await meta.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
