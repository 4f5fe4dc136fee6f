// withLease alone, over the real engine and real lease stores: "nodes" are separate stores on one database.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Registry } from "prom-client";
import { createTarGz } from "../packaging/tar.js";
import { isBwrapAvailable } from "../plugins/sandbox/bwrap.js";
import type { Lease, MetadataStore } from "../storage/meta/metadata-store.js";
import { createPostgresMetadataStore } from "../storage/meta/postgres/postgres-metadata-store.js";
import { createSqliteMetadataStore } from "../storage/meta/sqlite/sqlite-metadata-store.js";
import { createTestDatabase, pgVariable, skipWithout } from "../storage/testing/services.js";
import { compose, createGenerator, type GenerationJob, type GenerationResult } from "./generator.js";
import { createGenerateMetrics } from "./metrics.js";
import {
  buildExamples,
  fixturePlugins,
  testLimits,
  testRuntime,
  type Workspace,
} from "./testing/examples.js";
import { type LeaseCoordinator, withLease, withSingleflight } from "./wrappers.js";

interface Database {
  open(): Promise<MetadataStore>;
  drop(): Promise<void>;
}

const databases: { name: string; skip: string | false; make(): Promise<Database> }[] = [
  {
    name: "sqlite (two processes' worth of connections on one file)",
    skip: false,
    async make() {
      const dir = await mkdtemp(join(tmpdir(), "protodepot-lease-"));
      return {
        open: () => createSqliteMetadataStore({ path: join(dir, "meta.sqlite"), leasePollMs: 100 }),
        drop: () => rm(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    name: "postgres",
    skip: skipWithout(pgVariable),
    async make() {
      const db = await createTestDatabase();
      return {
        open: () => createPostgresMetadataStore({ url: db.url, poolSize: 4, leasePollMs: 1000 }),
        drop: () => db.drop(),
      };
    },
  },
];

for (const database of databases) {
  describe(`withLease on ${database.name}`, {
    skip: database.skip || (!isBwrapAvailable() && !process.env.CI && "bwrap is not installed"),
  }, () => {
    let ws: Workspace;
    let db: Database;
    const opened: MetadataStore[] = [];
    before(async () => {
      ws = await buildExamples();
      db = await database.make();
    });
    after(async () => {
      for (const store of opened) await store.close();
      await db.drop();
      await ws.cleanup();
    });

    /** Published results, shared by every node as the artifact table would be. */
    const published = new Map<string, GenerationResult>();

    /** A node: its own store, engine and plugin-run counter, with withLease and withSingleflight in front. */
    async function node(name: string, ttlMs: number, heartbeatMs = Math.floor(ttlMs / 3)) {
      const store = await db.open();
      opened.push(store);
      const registry = new Registry();
      const engine = createGenerator({
        runtime: testRuntime,
        limits: testLimits,
        metrics: createGenerateMetrics(registry),
      });
      const coordinator: LeaseCoordinator<GenerationResult, Lease> = {
        get: async (job) => published.get(job.key),
        acquire: (job) => store.acquireLease(job.key, name, ttlMs),
        renew: (lease) => store.renewLease(lease, ttlMs),
        async publish(lease, result) {
          const held = await store.transaction((tx) => tx.releaseLease(lease));
          if (!held) return undefined;
          published.set(result.key, result);
          return result;
        },
        release: async (lease) => {
          await store.releaseLease(lease);
        },
        wait: (job, signal) => store.waitForLease(job.key, ttlMs, signal),
      };
      const generator = compose(withLease(coordinator, { heartbeatMs })(engine), withSingleflight());
      const runs = async () => {
        const m = await registry.getSingleMetric("protodepot_plugin_runs_total")?.get();
        return m?.values.reduce((sum, v) => sum + v.value, 0) ?? 0;
      };
      return { store, generator, runs };
    }

    const job = (key: string, command: string[]): GenerationJob => ({
      key,
      owner: "test",
      async prepare() {
        return {
          image: ws.image,
          fileToGenerate: ["demo/money/v1/money.proto", "demo/payments/v1/payments.proto"],
          compilerVersion: "",
          plugins: [{ label: "test/stamp:v1", source: { kind: "host", command }, parameter: "" }],
          package: async (files) => ({ bytes: await createTarGz(files), extra: {} }),
        };
      },
    });
    const stamp = (s: string) => [join(fixturePlugins, "stamp.mjs"), s];
    const slowStamp = (s: string, ms: number) => [join(fixturePlugins, "slow-stamp.mjs"), s, String(ms)];

    test("40 concurrent first requests split over two nodes run the plugin once; everyone gets the same bytes", async () => {
      const [a, b] = [await node("a", 30_000), await node("b", 30_000)];
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          (i % 2 ? b : a).generator.generate(job("together", slowStamp("x", 300))),
        ),
      );
      assert.equal((await a.runs()) + (await b.runs()), 1);
      assert.equal(new Set(results.map((r) => r.digest)).size, 1);
      assert.equal(published.get("together")?.digest, results[0]?.digest);
    });

    test("a dead holder's lease expires and a waiting node takes the generation over", async () => {
      const b = await node("b", 30_000);
      const dead = await b.store.acquireLease("orphan", "dead-node", 600);
      assert.ok(dead, "the dead node held the lease first");
      const started = Date.now();
      const result = await b.generator.generate(job("orphan", stamp("b")));
      assert.ok(Date.now() - started >= 500, "the waiter respected the dead node's lease until it expired");
      assert.equal(await b.runs(), 1);
      assert.equal(published.get("orphan"), result);
      assert.equal(await b.store.renewLease(dead, 60_000), false, "the dead node's lease is fenced out");
    });

    test("a holder that lost its lease while it ran publishes nothing and takes the new holder's result", async () => {
      // a never renews (heartbeat beyond its run), so its 400 ms lease lapses during its 2.5 s plugin run.
      const a = await node("a", 400, 60_000);
      const b = await node("b", 30_000);
      const slow = a.generator.generate(job("stale", slowStamp("from-a", 2500)));
      await new Promise((r) => setTimeout(r, 900));
      const fresh = await b.generator.generate(job("stale", stamp("from-b")));
      const late = await slow;
      assert.equal(await a.runs(), 1, "a did run");
      assert.equal(await b.runs(), 1, "b took over after a's lease expired");
      assert.equal(published.get("stale"), fresh);
      assert.equal(late.digest, fresh.digest, "a answers with b's published result, not its own");
    });

    test("a failed run releases its lease at once, so a waiting node does not sit out the expiry", async () => {
      // a's lease would last 10 minutes: b finishing in a tenth of that means a released it.
      const a = await node("a", 600_000);
      const b = await node("b", 600_000);
      const failing = a.generator.generate(job("flaky", [join(fixturePlugins, "exit-nonzero.mjs")]));
      await new Promise((r) => setTimeout(r, 20));
      let timer: NodeJS.Timeout | undefined;
      const tooLate = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("b sat out a's lease")), 60_000);
      });
      const result = await Promise.race([b.generator.generate(job("flaky", stamp("b"))), tooLate]).finally(
        () => clearTimeout(timer),
      );
      await assert.rejects(failing);
      assert.equal(published.get("flaky"), result);
      assert.equal(await b.runs(), 1);
    });
  });
}
