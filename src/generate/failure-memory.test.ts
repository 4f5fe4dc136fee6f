import assert from "node:assert/strict";
import { test } from "node:test";
import { Code, isRegistryError, RegistryError } from "../core/errors.js";
import { isLastingFailure, withFailureMemory } from "./failure-memory.js";
import type { GenerationJob, GenerationResult, Generator } from "./generator.js";
import { withSingleflight } from "./wrappers.js";

const job = (key: string): GenerationJob => ({
  key,
  owner: "acme",
  prepare: () => Promise.reject(new Error("not used")),
});
const ok = (key: string): GenerationResult => ({
  key,
  bytes: new Uint8Array(),
  digest: "sha256:x",
  size: 0,
  extra: {},
  fileCount: 1,
});

/** A generator whose next outcome per key the test sets, counting the runs that reached it; a clock the test moves. */
function fake() {
  const runs = new Map<string, number>();
  const outcome = new Map<string, () => Promise<GenerationResult>>();
  const inner: Generator = {
    generate(j) {
      runs.set(j.key, (runs.get(j.key) ?? 0) + 1);
      return (outcome.get(j.key) ?? (async () => ok(j.key)))();
    },
  };
  let t = 1_000;
  return {
    inner,
    runs: (key: string) => runs.get(key) ?? 0,
    fail: (key: string, make: () => unknown) => outcome.set(key, () => Promise.reject(make())),
    succeed: (key: string) => outcome.delete(key),
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

const pluginError = () =>
  new RegistryError(Code.Unprocessable, "plugin bob/bad:v1 failed: no", { plugin: "bob/bad:v1" });

test("a failure is answered from memory until it expires, with the same code, message and fields", async () => {
  const f = fake();
  const g = withFailureMemory<GenerationResult>({ minMs: 5000, maxMs: 300_000, now: f.now })(f.inner);
  f.fail("k", pluginError);
  const first = await g.generate(job("k")).catch((e: unknown) => e);
  assert.ok(isRegistryError(first, Code.Unprocessable));
  for (let i = 0; i < 5; i++) {
    const again = await g.generate(job("k")).catch((e: unknown) => e);
    assert.ok(isRegistryError(again));
    assert.deepEqual([again.code, again.message, again.fields], [first.code, first.message, first.fields]);
  }
  assert.equal(f.runs("k"), 1, "five repeats ran nothing");
  assert.equal((await g.generate(job("other"))).key, "other", "another key is not affected");
  f.advance(4999);
  await assert.rejects(g.generate(job("k")));
  assert.equal(f.runs("k"), 1);
  f.advance(1);
  f.succeed("k");
  assert.equal((await g.generate(job("k"))).key, "k", "after 5 s the key runs again");
  assert.equal(f.runs("k"), 2);
});

test("failures in a row are remembered twice as long each time, up to the cap; a success forgets them", async () => {
  const f = fake();
  const g = withFailureMemory<GenerationResult>({ minMs: 5000, maxMs: 20_000, now: f.now })(f.inner);
  f.fail("k", pluginError);
  /** Repeats the key every second until it runs again: how long the last failure was remembered. */
  const memoryOfLastFailure = async () => {
    const runs = f.runs("k");
    let waited = 0;
    while (f.runs("k") === runs && waited < 1_000_000) {
      f.advance(1000);
      waited += 1000;
      await g.generate(job("k")).catch(() => {});
    }
    return waited;
  };
  await assert.rejects(g.generate(job("k")));
  const steps: number[] = [];
  for (let i = 0; i < 5; i++) steps.push(await memoryOfLastFailure());
  assert.deepEqual(steps, [5000, 10_000, 20_000, 20_000, 20_000]);
  f.succeed("k");
  f.advance(20_000);
  await g.generate(job("k"));
  f.fail("k", pluginError);
  await assert.rejects(g.generate(job("k")));
  assert.equal(await memoryOfLastFailure(), 5000, "after a success the next failure is remembered 5 s again");
  // A quiet spell of maxMs after the memory ended also starts again from 5 s.
  f.advance(40_000);
  await assert.rejects(g.generate(job("k")));
  assert.equal(await memoryOfLastFailure(), 5000);
});

test("only lasting failures are remembered: not cancellations, not faults that name no plugin", async () => {
  const f = fake();
  const g = withFailureMemory<GenerationResult>({ minMs: 5000, maxMs: 300_000, now: f.now })(f.inner);
  const transient = [
    () => new RegistryError(Code.Unavailable, "generation was cancelled"),
    () => new RegistryError(Code.Internal, "artifact blob x is missing"),
    () => new RegistryError(Code.FailedPrecondition, "push the dependency acme/base first"),
    () => new Error("socket hang up"),
  ];
  for (const [i, make] of transient.entries()) {
    f.fail(`t${i}`, make);
    await assert.rejects(g.generate(job(`t${i}`)));
    await assert.rejects(g.generate(job(`t${i}`)));
    assert.equal(f.runs(`t${i}`), 2, `${String(make())} is retried at once`);
  }
  const lasting = [
    pluginError,
    () =>
      new RegistryError(Code.DeadlineExceeded, "plugin p did not finish within 60000 ms", { plugin: "p" }),
    () => new RegistryError(Code.ResourceExhausted, "plugin p used more than 2048 MiB", { plugin: "p" }),
    () => new RegistryError(Code.Internal, "plugin p exited with status 2", { plugin: "p" }),
    () =>
      new RegistryError(Code.FailedPrecondition, "plugin p: its image cannot be unpacked", { plugin: "p" }),
  ];
  for (const make of lasting) assert.ok(isLastingFailure(make()));
  for (const make of transient) assert.equal(isLastingFailure(make()), false);
});

test("the callers of one failed flight count as one failure, and the memory holds at most maxKeys keys", async () => {
  const f = fake();
  let reject: (e: unknown) => void = () => {};
  const inner: Generator = {
    generate(j) {
      f.inner.generate(j).catch(() => {});
      return new Promise((_, r) => (reject = r));
    },
  };
  const g = withFailureMemory<GenerationResult>({ minMs: 5000, maxMs: 300_000, maxKeys: 2, now: f.now })(
    withSingleflight<GenerationResult>()(inner),
  );
  const callers = Array.from({ length: 10 }, () => g.generate(job("k")));
  reject(pluginError());
  for (const c of callers) await assert.rejects(c);
  assert.equal(f.runs("k"), 1);
  f.advance(5000);
  const after = g.generate(job("k"));
  assert.equal(f.runs("k"), 2, "ten callers of one flight remembered it 5 s, not 5 s × 2⁹");
  reject(pluginError());
  await assert.rejects(after);
  // Two more failing keys push "k" out: it runs again at once.
  for (const key of ["x", "y"]) {
    const p = g.generate(job(key));
    reject(pluginError());
    await assert.rejects(p);
  }
  const again = g.generate(job("k"));
  assert.equal(f.runs("k"), 3);
  reject(pluginError());
  await assert.rejects(again);
});

test("minMs 0 remembers nothing", async () => {
  const f = fake();
  const g = withFailureMemory<GenerationResult>({ minMs: 0, maxMs: 0, now: f.now })(f.inner);
  f.fail("k", pluginError);
  await assert.rejects(g.generate(job("k")));
  await assert.rejects(g.generate(job("k")));
  assert.equal(f.runs("k"), 2);
});
