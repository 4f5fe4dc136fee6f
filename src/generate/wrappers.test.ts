import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Registry } from "prom-client";
import { Code, isRegistryError, RegistryError } from "../core/errors.js";
import { createTarGz } from "../packaging/tar.js";
import { isBwrapAvailable } from "../plugins/sandbox/bwrap.js";
import {
  compose,
  createGenerator,
  type GenerationJob,
  type GenerationResult,
  type Generator,
} from "./generator.js";
import { createGenerateMetrics } from "./metrics.js";
import {
  buildExamples,
  fixturePlugins,
  testLimits,
  testRuntime,
  type Workspace,
} from "./testing/examples.js";
import {
  ANONYMOUS,
  createFairScheduler,
  withCache,
  withFairScheduling,
  withLogging,
  withSingleflight,
} from "./wrappers.js";

const runtime = testRuntime;
const limits = testLimits;

// Outside CI these tests skip when bwrap is missing; in CI (which installs it) they always run.
describe("wrappers over the real engine", {
  skip: !isBwrapAvailable() && !process.env.CI && "bwrap is not installed",
}, () => {
  let ws: Workspace;
  before(async () => {
    ws = await buildExamples();
  });
  after(() => ws.cleanup());

  const engine = () => {
    const registry = new Registry();
    const metrics = createGenerateMetrics(registry);
    const runs = async () => {
      const m = await registry.getSingleMetric("protodepot_plugin_runs_total")?.get();
      return m?.values.reduce((sum, v) => sum + v.value, 0) ?? 0;
    };
    return { base: createGenerator({ runtime, limits, metrics }), runs };
  };
  let prepared = 0;
  const job = (key: string, plugin: string, parameter = ""): GenerationJob => ({
    key,
    owner: "test",
    async prepare() {
      prepared++;
      return {
        image: ws.image,
        fileToGenerate: ["demo/money/v1/money.proto", "demo/payments/v1/payments.proto"],
        compilerVersion: "1.75.0",
        plugins: [
          {
            label: `test/${plugin}:v1`,
            source: { kind: "host", command: [join(fixturePlugins, plugin)] },
            parameter,
          },
        ],
        package: async (files) => ({
          bytes: await createTarGz(files),
          extra: { files: String(files.length) },
        }),
      };
    },
  });

  test("singleflight: 50 concurrent generate() of one key run the plugin once, and all get the same result", async () => {
    const { base, runs } = engine();
    const g = compose(base, withSingleflight());
    prepared = 0;
    const results = await Promise.all(
      Array.from({ length: 50 }, () => g.generate(job("k1", "stamp.mjs", "a"))),
    );
    assert.equal(await runs(), 1);
    assert.equal(prepared, 1);
    const first = results[0];
    assert.ok(first);
    assert.match(first.digest, /^sha256:[0-9a-f]{64}$/);
    for (const r of results) assert.equal(r, first);
    assert.deepEqual(first.extra, { files: "2" });
    // Settled flights are forgotten: the next call runs again and, packaging being deterministic, gives the same bytes.
    const again = await g.generate(job("k1", "stamp.mjs", "a"));
    assert.equal(await runs(), 2);
    assert.equal(again.digest, first.digest);
  });

  test("singleflight: a failure is shared by the waiters, then forgotten", async () => {
    const { base, runs } = engine();
    const g = compose(base, withSingleflight());
    const all = await Promise.allSettled(
      Array.from({ length: 10 }, () => g.generate(job("bad", "exit-nonzero.mjs"))),
    );
    assert.ok(all.every((r) => r.status === "rejected" && isRegistryError(r.reason, Code.Internal)));
    assert.equal(await runs(), 1);
    await assert.rejects(g.generate(job("bad", "exit-nonzero.mjs")));
    assert.equal(await runs(), 2);
  });

  test("cache: a hit neither prepares nor runs; a failed run caches nothing", async () => {
    const { base, runs } = engine();
    const store = new Map<string, GenerationResult>();
    const cache = {
      get: async (key: string) => store.get(key),
      put: async (key: string, result: GenerationResult) => {
        store.set(key, result);
        return result;
      },
    };
    const g = compose(withCache(cache)(base), withSingleflight());
    prepared = 0;
    const first = await g.generate(job("k", "stamp.mjs"));
    const second = await g.generate(job("k", "stamp.mjs"));
    assert.equal(second, first);
    assert.equal(prepared, 1);
    assert.equal(await runs(), 1);

    for (const hostile of ["exit-nonzero.mjs", "invalid.mjs", "flood.mjs"]) {
      await assert.rejects(g.generate(job(`bad-${hostile}`, hostile)), (err: unknown) =>
        isRegistryError(err),
      );
      assert.equal(store.has(`bad-${hostile}`), false);
    }
    await assert.rejects(
      g.generate(job("bad-error", "echo.mjs", JSON.stringify({ error: "no" }))),
      /failed: no/,
    );
    assert.deepEqual([...store.keys()], ["k"]);
  });
});

/** A generator whose runs the test finishes by hand. */
function manual() {
  const pending: {
    key: string;
    done: boolean;
    resolve: (r: GenerationResult) => void;
    reject: (e: unknown) => void;
  }[] = [];
  let running = 0;
  let maxRunning = 0;
  const g: Generator = {
    generate: (job) =>
      new Promise<GenerationResult>((resolve, reject) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        const entry = {
          key: job.key,
          done: false,
          resolve: (r: GenerationResult) => {
            done();
            resolve(r);
          },
          reject: (e: unknown) => {
            done();
            reject(e);
          },
        };
        const done = () => {
          running--;
          entry.done = true;
        };
        pending.push(entry);
      }),
  };
  return { g, pending, maxRunning: () => maxRunning };
}
const result = (key: string): GenerationResult => ({
  key,
  bytes: new Uint8Array(),
  digest: "sha256:x",
  size: 0,
  extra: {},
  fileCount: 0,
});
const noJob = (key: string, owner = "acme"): GenerationJob => ({
  key,
  owner,
  prepare: () => Promise.reject(new Error("not used")),
});
const tick = () => new Promise((r) => setImmediate(r));

test("withFairScheduling, one owner: at most n at once, in arrival order, an aborted waiter leaves the queue", async () => {
  const m = manual();
  const g = withFairScheduling<GenerationResult>({ slots: 2, perOwner: 2 })(m.g);
  const ac = new AbortController();
  const calls = Promise.allSettled(["a", "b", "c", "d"].map((k) => g.generate(noJob(k))));
  const aborted = g.generate(noJob("e"), ac.signal);
  await tick();
  assert.deepEqual(
    m.pending.map((p) => p.key),
    ["a", "b"],
  );
  ac.abort();
  await assert.rejects(aborted, (err: unknown) => isRegistryError(err, Code.Unavailable));
  m.pending[0]?.resolve(result("a"));
  await tick();
  assert.deepEqual(
    m.pending.map((p) => p.key),
    ["a", "b", "c"],
  );
  m.pending[1]?.reject(new Error("b failed"));
  await tick();
  for (const p of m.pending.slice(2)) p.resolve(result(p.key));
  await tick();
  for (const p of m.pending.slice(3)) p.resolve(result(p.key));
  const settled = await calls;
  assert.deepEqual(
    settled.map((s) => s.status),
    ["fulfilled", "rejected", "fulfilled", "fulfilled"],
  );
  assert.equal(m.maxRunning(), 2);
  assert.equal(m.pending.length, 4);
});

test("withFairScheduling: a busy owner leaves a slot to another, who is served before the busy owner's queue", async () => {
  const m = manual();
  const g = withFairScheduling<GenerationResult>({ slots: 4, perOwner: 3 })(m.g);
  const slow = ["s1", "s2", "s3", "s4", "s5", "s6"].map((k) => g.generate(noJob(k, "slow")));
  await tick();
  assert.deepEqual(
    m.pending.map((p) => p.key),
    ["s1", "s2", "s3"],
    "the busy owner holds at most perOwner slots, even with one free",
  );
  const other = g.generate(noJob("o1", "other"));
  const other2 = g.generate(noJob("o2", "other"));
  const third = g.generate(noJob("t1", "third"));
  await tick();
  assert.deepEqual(
    m.pending.map((p) => p.key).slice(3),
    ["o1"],
    "the free slot goes to the other owner at once",
  );
  m.pending[0]?.resolve(result("s1"));
  await tick();
  // Waiting: slow (2 running), other (1 running), third (0 running): the owner with the fewest goes first.
  assert.equal(m.pending[4]?.key, "t1");
  m.pending[3]?.resolve(result("o1"));
  await tick();
  // slow 2 running, other 0, third 1: other's next job goes before slow's queue.
  assert.equal(m.pending[5]?.key, "o2");
  for (let i = 0; i < 20 && m.pending.some((p) => !p.done); i++) {
    for (const p of m.pending) if (!p.done) p.resolve(result(p.key));
    await tick();
  }
  await Promise.all([...slow, other, other2, third]);
  assert.deepEqual(
    m.pending.map((p) => p.key),
    ["s1", "s2", "s3", "o1", "t1", "o2", "s4", "s5", "s6"],
  );
  assert.equal(m.maxRunning(), 4);
});

test("a fair scheduler shared by generations and other plugin runs bounds them together", async () => {
  const scheduler = createFairScheduler({ slots: 2, perOwner: 1 });
  const m = manual();
  const g = withFairScheduling<GenerationResult>(scheduler)(m.g);
  const artifact = g.generate(noJob("a", "acme"));
  // Another path (buf's remote plugins) takes the second slot for its caller.
  let finishRemote: () => void = () => {};
  const remote = scheduler.run("eve", () => new Promise<string>((r) => (finishRemote = () => r("done"))));
  const waiting = g.generate(noJob("b", "bob"));
  const sameOwner = scheduler.run("eve", async () => "second");
  await tick();
  assert.deepEqual(
    m.pending.map((p) => p.key),
    ["a"],
    "both slots are taken: bob waits, and eve's second run waits behind her first",
  );
  finishRemote();
  assert.equal(await remote, "done");
  await tick();
  assert.deepEqual(
    m.pending.map((p) => p.key),
    ["a", "b"],
    "the freed slot goes to bob, who waited longer than eve's second run",
  );
  m.pending[0]?.resolve(result("a"));
  m.pending[1]?.resolve(result("b"));
  await Promise.all([artifact, waiting]);
  assert.equal(await sameOwner, "second");
});

const paid = (key: string, payers: readonly string[]): GenerationJob => ({ ...noJob(key), payers });
/** Resolves every pending run, oldest first, until none is left: the order the scheduler started them in. */
async function drain(m: ReturnType<typeof manual>) {
  for (let i = 0; i < 1000 && m.pending.some((p) => !p.done); i++) {
    const next = m.pending.find((p) => !p.done);
    next?.resolve(result(next.key));
    await tick();
  }
  return m.pending.map((p) => p.key);
}

test("withFairScheduling, payers: a run waits while any of its payers is at its cap, whoever else has room", async () => {
  const m = manual();
  const g = withFairScheduling<GenerationResult>({ slots: 4, perOwner: 2, anonymous: 2 })(m.g);
  // bob's template run by three callers: bob is charged for each, so only two run although two slots stay free.
  const bob = [
    g.generate(paid("b1", ["carol", "bob"])),
    g.generate(paid("b2", ["dave", "bob"])),
    g.generate(paid("b3", ["erin", "bob"])),
  ];
  await tick();
  assert.deepEqual(
    m.pending.map((p) => p.key),
    ["b1", "b2"],
  );
  // carol (one run) still has room, and her run of another owner's template does not wait behind bob's.
  const carol = g.generate(paid("c1", ["carol", "zed"]));
  await tick();
  assert.deepEqual(
    m.pending.map((p) => p.key),
    ["b1", "b2", "c1"],
  );
  assert.deepEqual(await drain(m), ["b1", "b2", "c1", "b3"]);
  await Promise.all([...bob, carol]);
  assert.equal(m.maxRunning(), 3);
});

test("withFairScheduling, anonymous pool: every anonymous caller shares one small cap; a user is served beside the flood", async () => {
  const m = manual();
  const g = withFairScheduling<GenerationResult>({ slots: 4, perOwner: 3, anonymous: 2 })(m.g);
  const flood = Array.from({ length: 240 }, (_, i) => g.generate(paid(`anon${i}`, [ANONYMOUS, "bob"])));
  await tick();
  assert.deepEqual(
    m.pending.map((p) => p.key),
    ["anon0", "anon1"],
    "240 anonymous requests hold two slots, not four",
  );
  const alice = g.generate(paid("alice", ["alice"]));
  await tick();
  assert.equal(
    m.pending[2]?.key,
    "alice",
    "a signed-in user's run starts at once, ahead of the queued flood",
  );
  assert.equal((await drain(m)).length, 241);
  await Promise.all([...flood, alice]);
  assert.equal(m.maxRunning(), 3);
});

test("withFairScheduling, ordering: groups of payers take turns; one flood does not go first in, first out", async () => {
  const m = manual();
  const g = withFairScheduling<GenerationResult>({ slots: 1, perOwner: 1, anonymous: 1 })(m.g);
  const jobs = [
    g.generate(paid("x0", ["alice"])),
    // An anonymous flood of bob's template arrives first, then one of carol's, then alice's second run.
    ...["b1", "b2", "b3"].map((k) => g.generate(paid(k, [ANONYMOUS, "bob"]))),
    g.generate(paid("c1", [ANONYMOUS, "carol"])),
    g.generate(paid("a1", ["alice"])),
  ];
  await tick();
  // One slot: after x0 each group in turn, the group served longest ago first; bob's flood does not block carol.
  assert.deepEqual(await drain(m), ["x0", "b1", "c1", "a1", "b2", "b3"]);
  await Promise.all(jobs);
});

test("a fair scheduler: one payer named twice is charged once, and a job without payers is charged to its owner", async () => {
  const scheduler = createFairScheduler({ slots: 3, perOwner: 1 });
  const m = manual();
  const g = withFairScheduling<GenerationResult>(scheduler)(m.g);
  const twice = scheduler.run(["bob", "bob"], async () => "ran");
  assert.equal(await twice, "ran", "bob named twice holds one of his one slot, and runs");
  const a = g.generate(noJob("a", "acme"));
  const b = g.generate(noJob("b", "acme"));
  await tick();
  assert.deepEqual(
    m.pending.map((p) => p.key),
    ["a"],
  );
  assert.deepEqual(await drain(m), ["a", "b"]);
  await Promise.all([a, b]);
});

test("withFairScheduling refuses limits that are not positive integers", () => {
  assert.throws(
    () => withFairScheduling({ slots: 2, perOwner: 1, anonymous: 0 }),
    /anonymous must be a positive integer/,
  );
  assert.throws(() => withFairScheduling({ slots: 0, perOwner: 1 }), /slots must be a positive integer/);
  assert.throws(() => withFairScheduling({ slots: 2, perOwner: 1.5 }), /perOwner must be a positive integer/);
});

test("withSingleflight alone: one run per key, distinct keys run apart, a waiter's abort leaves the flight running", async () => {
  const m = manual();
  const g = withSingleflight<GenerationResult>()(m.g);
  const ac = new AbortController();
  const a1 = g.generate(noJob("a"));
  const a2 = g.generate(noJob("a"), ac.signal);
  const b = g.generate(noJob("b"));
  assert.equal(m.pending.length, 2);
  ac.abort();
  await assert.rejects(a2, (err: unknown) => isRegistryError(err, Code.Unavailable));
  m.pending[0]?.resolve(result("a"));
  m.pending[1]?.resolve(result("b"));
  assert.equal((await a1).key, "a");
  assert.equal((await b).key, "b");
});

test("withFairScheduling: background jobs leave a slot free and yield to waiting requests", async () => {
  const m = manual();
  const g = withFairScheduling<GenerationResult>({ slots: 3, perOwner: 3 })(m.g);
  const bg = (key: string): GenerationJob => ({ ...noJob(key), background: true });
  const warming = Promise.allSettled(["w1", "w2", "w3", "w4"].map((k) => g.generate(bg(k))));
  await tick();
  // Three slots, background jobs hold at most two of them.
  assert.deepEqual(
    m.pending.map((p) => p.key),
    ["w1", "w2"],
  );
  const request = g.generate(noJob("r1"));
  await tick();
  assert.deepEqual(
    m.pending.map((p) => p.key),
    ["w1", "w2", "r1"],
  );
  // With every slot busy, a request that arrives after w3 and w4 still goes first.
  const later = g.generate(noJob("r2"));
  m.pending[0]?.resolve(result("w1"));
  await tick();
  assert.deepEqual(
    m.pending.map((p) => p.key),
    ["w1", "w2", "r1", "r2"],
  );
  for (const p of m.pending.slice(1)) p.resolve(result(p.key));
  await Promise.all([request, later]);
  await tick();
  for (const p of m.pending.slice(4)) p.resolve(result(p.key));
  await tick();
  for (const p of m.pending.slice(5)) p.resolve(result(p.key));
  assert.deepEqual(
    (await warming).map((s) => s.status),
    ["fulfilled", "fulfilled", "fulfilled", "fulfilled"],
  );
});

test("singleflight over a limit: a flight every caller left is never started; a running one finishes", async () => {
  const m = manual();
  const g = compose(
    m.g,
    withFairScheduling<GenerationResult>({ slots: 1, perOwner: 1 }),
    withSingleflight<GenerationResult>(),
  );
  const busy = g.generate(noJob("busy"));
  await tick();
  const left1 = new AbortController();
  const left2 = new AbortController();
  const a1 = g.generate(noJob("a"), left1.signal);
  const a2 = g.generate(noJob("a"), left2.signal);
  left1.abort();
  const a1Left = assert.rejects(a1, (err: unknown) => isRegistryError(err, Code.Unavailable));
  await tick();
  m.pending[0]?.resolve(result("busy"));
  await busy;
  await tick();
  // One caller still waits: "a" runs.
  assert.deepEqual(
    m.pending.map((p) => p.key),
    ["busy", "a"],
  );
  m.pending[1]?.resolve(result("a"));
  assert.equal((await a2).key, "a");
  await a1Left;

  const blocker = g.generate(noJob("blocker"));
  await tick();
  const gone = new AbortController();
  const b = g.generate(noJob("b"), gone.signal);
  gone.abort();
  await assert.rejects(b, (err: unknown) => isRegistryError(err, Code.Unavailable));
  m.pending[2]?.resolve(result("blocker"));
  await blocker;
  await tick();
  assert.deepEqual(
    m.pending.map((p) => p.key),
    ["busy", "a", "blocker"],
    "nobody waited for b when a slot freed: it never started",
  );

  const running = new AbortController();
  const c = g.generate(noJob("c"), running.signal);
  await tick();
  running.abort();
  await assert.rejects(c, (err: unknown) => isRegistryError(err, Code.Unavailable));
  assert.equal(m.pending[3]?.key, "c", "c had its slot and keeps running");
  m.pending[3]?.resolve(result("c"));
});

test("withCache alone: get first, put only fresh successes, put's answer is returned", async () => {
  const puts: string[] = [];
  const cache = {
    get: async (key: string) => (key === "hit" ? "cached" : undefined),
    put: async (key: string, r: GenerationResult) => {
      puts.push(key);
      return `stored ${r.key}`;
    },
  };
  let fail = false;
  const base: Generator = {
    generate: async (job) => {
      if (fail) throw new Error("plugin failed");
      return result(job.key);
    },
  };
  const g = withCache(cache)(base);
  assert.equal(await g.generate(noJob("hit")), "cached");
  assert.equal(await g.generate(noJob("miss")), "stored miss");
  fail = true;
  await assert.rejects(g.generate(noJob("broken")), /plugin failed/);
  assert.deepEqual(puts, ["miss"]);
});

describe("withLogging", () => {
  const job: GenerationJob = {
    key: "k",
    owner: "acme",
    prepare: () => Promise.reject(new Error("not used")),
  };
  const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
  const log = {
    info: (fields: object, message: string) => lines.push({ level: "info", fields: { ...fields }, message }),
    warn: (fields: object, message: string) => lines.push({ level: "warn", fields: { ...fields }, message }),
  };

  test("logs a finished generation with its size and a failed one with its code and plugin", async () => {
    const ok: Generator = {
      generate: async () => ({
        key: "k",
        bytes: new Uint8Array(3),
        digest: "sha256:x",
        size: 3,
        extra: {},
        fileCount: 2,
      }),
    };
    await withLogging(log)(ok).generate(job);
    const failing: Generator = {
      generate: () =>
        Promise.reject(
          new RegistryError(Code.Unprocessable, "plugin a/b:v1 failed: no", { plugin: "a/b:v1" }),
        ),
    };
    await assert.rejects(withLogging(log)(failing).generate(job), /failed: no/);
    assert.deepEqual(
      lines.map((l) => [l.level, l.message, l.fields.bytes ?? l.fields.plugin]),
      [
        ["info", "generation finished", 3],
        ["warn", "generation failed", "a/b:v1"],
      ],
    );
    assert.equal(lines[1]?.fields.code, Code.Unprocessable);
  });
});
