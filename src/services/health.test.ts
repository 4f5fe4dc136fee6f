import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createFsBlobStore } from "../storage/blob/fs/fs-blob-store.js";
import { createSqliteMetadataStore } from "../storage/meta/sqlite/sqlite-metadata-store.js";
import { createHealthCheck } from "./health.js";

test("health: ok while both stores answer; names the store that stops answering, and logs why", async () => {
  const dir = await mkdtemp(join(tmpdir(), "protodepot-health-"));
  try {
    const meta = await createSqliteMetadataStore({ path: join(dir, "meta.sqlite") });
    const blobs = await createFsBlobStore({ root: join(dir, "blobs"), fsync: false });
    const logged: string[] = [];
    const health = createHealthCheck({
      meta,
      blobs,
      timeoutMs: 2000,
      log: { warn: (_f, m) => logged.push(m) },
    });
    assert.deepEqual(await health.check(), { ok: true, problems: [] });

    await meta.close();
    assert.deepEqual(await health.check(), { ok: false, problems: ["metadata store unreachable"] });
    assert.deepEqual(logged, ["metadata store unreachable"]);

    const hanging = createHealthCheck({
      meta: { ...meta, ping: () => new Promise(() => {}) },
      blobs: { ...blobs, stat: () => Promise.reject(new Error("disk gone")) },
      timeoutMs: 50,
      log: { warn: () => {} },
    });
    assert.deepEqual(await hanging.check(), {
      ok: false,
      problems: ["blob store unreachable", "metadata store unreachable"],
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("health: reports how plugin runs are bounded without making the node unready", async () => {
  const dir = await mkdtemp(join(tmpdir(), "protodepot-health-"));
  try {
    const meta = await createSqliteMetadataStore({ path: join(dir, "meta.sqlite") });
    const blobs = await createFsBlobStore({ root: join(dir, "blobs"), fsync: false });
    const health = createHealthCheck({
      meta,
      blobs,
      timeoutMs: 2000,
      log: { warn: () => {} },
      sandbox: { status: () => ({ limits: "none", pushedPlugins: "refused" }) },
    });
    assert.deepEqual(await health.check(), {
      ok: true,
      problems: [],
      sandbox: { limits: "none", pushedPlugins: "refused" },
    });
    await meta.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("health: answers the latest round of probes and refreshes it in the background once it is older than the interval", async () => {
  let clock = 0;
  let pings = 0;
  let hang: (() => void) | undefined;
  const meta = {
    ping: (): Promise<void> => {
      pings++;
      if (pings === 2) return new Promise<void>((resolve) => (hang = resolve));
      if (pings === 3) return Promise.reject(new Error("database gone"));
      return Promise.resolve();
    },
  };
  const blobs = { stat: () => Promise.resolve(undefined) };
  const health = createHealthCheck({
    meta,
    blobs,
    timeoutMs: 60_000,
    log: { warn: () => {} },
    probeIntervalMs: 1000,
    now: () => clock,
  });
  // The first check waits for a round; within the interval, checks answer it without probing.
  assert.deepEqual(await health.check(), { ok: true, problems: [] });
  clock = 999;
  assert.deepEqual(await health.check(), { ok: true, problems: [] });
  assert.equal(pings, 1);
  // Stale: the answer is the latest round, and the next one starts; while it hangs, checks do not wait for it.
  clock = 1000;
  assert.deepEqual(await health.check(), { ok: true, problems: [] });
  assert.equal(pings, 2);
  clock = 5000;
  assert.deepEqual(await health.check(), { ok: true, problems: [] });
  assert.equal(pings, 2, "one round at a time");
  hang?.();
  await new Promise((r) => setImmediate(r));
  // That round finished at clock 1000's start time, so it is stale too: the next check starts a third, which fails.
  await health.check();
  assert.equal(pings, 3);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(await health.check(), { ok: false, problems: ["metadata store unreachable"] });
});
