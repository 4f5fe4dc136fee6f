import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createCache } from "./cache.js";

/** A clock and an epoch the test moves by hand. */
function world() {
  const w = { time: 1_000, epoch: 0, now: () => w.time, epochOf: () => w.epoch };
  return w;
}

/** A promise the test settles by hand, and how many times its loader ran. */
function gate<T>() {
  let settle: { resolve(v: T): void; reject(e: unknown): void } | undefined;
  let runs = 0;
  const loader = () => {
    runs++;
    return new Promise<T>((resolve, reject) => {
      settle = { resolve, reject };
    });
  };
  return {
    loader,
    runs: () => runs,
    resolve: (v: T) => settle?.resolve(v),
    reject: (e: unknown) => settle?.reject(e),
  };
}

describe("cache", () => {
  it("keeps at most maxEntries, dropping the least recently used", () => {
    const cache = createCache<string>({ bound: { maxEntries: 2 } });
    cache.set("a", "A");
    cache.set("b", "B");
    assert.equal(cache.get("a"), "A"); // a is now the most recent
    cache.set("c", "C");
    assert.deepEqual([...cache.keys()].sort(), ["a", "c"]);
    assert.equal(cache.get("b"), undefined);
  });

  it("bounds by the caller's size and never keeps an entry over maxEntrySize", () => {
    const cache = createCache<Buffer>({
      bound: { maxSize: 10, sizeOf: (b) => b.byteLength, maxEntrySize: 6 },
    });
    assert.equal(cache.set("big", Buffer.alloc(7)), false);
    assert.equal(cache.has("big"), false);
    assert.equal(cache.set("x", Buffer.alloc(6)), true);
    assert.equal(cache.set("y", Buffer.alloc(4)), true);
    assert.equal(cache.set("z", Buffer.alloc(4)), true); // over 10 in all: x goes
    assert.deepEqual([...cache.keys()].sort(), ["y", "z"]);
  });

  it("keeps nothing with a bound of 0 or a TTL of 0", async () => {
    for (const cache of [
      createCache<string>({ bound: { maxEntries: 0 } }),
      createCache<string>({ bound: { maxSize: 0, sizeOf: () => 1 } }),
      createCache<string>({ bound: { maxEntries: 5 }, ttlMs: 0 }),
    ]) {
      assert.equal(cache.set("a", "A"), false);
      assert.equal(await cache.load("b", async () => "B"), "B");
      assert.equal(cache.has("b"), false);
    }
  });

  it("ends an entry at its TTL, or earlier when set says so", () => {
    const w = world();
    const cache = createCache<string>({ bound: { maxEntries: 10 }, ttlMs: 100, now: w.now });
    cache.set("a", "A");
    cache.set("short", "S", { ttlMs: 10 });
    assert.equal(cache.set("longer", "L", { ttlMs: 1_000 }), true);
    assert.equal(cache.set("expired", "E", { ttlMs: 0 }), false);
    w.time += 10;
    assert.equal(cache.get("short"), undefined);
    assert.equal(cache.get("a"), "A");
    w.time += 89;
    assert.equal(cache.get("a"), "A");
    assert.equal(cache.get("longer"), "L"); // never past the cache's own TTL
    w.time += 1;
    assert.equal(cache.get("a"), undefined);
    assert.equal(cache.get("longer"), undefined);
  });

  it("makes every entry of an older epoch a miss, and refuses a value read before the current epoch", () => {
    const w = world();
    const cache = createCache<string>({ bound: { maxEntries: 10 }, epoch: w.epochOf, now: w.now });
    cache.set("a", "A");
    const readAt = w.epoch;
    w.epoch++;
    assert.equal(cache.get("a"), undefined);
    assert.equal(cache.set("b", "B", { epoch: readAt }), false);
    assert.equal(cache.set("b", "B", { epoch: w.epoch }), true);
    assert.equal(cache.get("b"), "B");
  });

  it("shares one load among concurrent callers and keeps its result", async () => {
    const cache = createCache<string>({ bound: { maxEntries: 10 } });
    const g = gate<string>();
    const first = cache.load("k", g.loader);
    const second = cache.load("k", g.loader);
    g.resolve("V");
    assert.deepEqual(await Promise.all([first, second]), ["V", "V"]);
    assert.equal(await cache.load("k", g.loader), "V");
    assert.equal(g.runs(), 1);
  });

  it("keeps undefined when loaded, so a miss of the store is a hit of the cache", async () => {
    const cache = createCache<string | undefined>({ bound: { maxEntries: 10 } });
    let runs = 0;
    const loader = async () => {
      runs++;
      return undefined;
    };
    assert.equal(await cache.load("k", loader), undefined);
    assert.equal(await cache.load("k", loader), undefined);
    assert.equal(runs, 1);
  });

  it("keeps only what keep accepts, and still shares the load", async () => {
    const cache = createCache<Buffer>({ bound: { maxEntries: 10 } });
    const isBuffer = (r: Buffer | string): r is Buffer => Buffer.isBuffer(r);
    const g = gate<Buffer | string>();
    const a = cache.load("large", g.loader, isBuffer);
    const b = cache.load("large", g.loader, isBuffer);
    g.resolve("a stream, not kept");
    assert.deepEqual(await Promise.all([a, b]), ["a stream, not kept", "a stream, not kept"]);
    assert.equal(g.runs(), 1);
    assert.equal(cache.has("large"), false);
    await cache.load("small", async (): Promise<Buffer | string> => Buffer.from("kept"), isBuffer);
    assert.deepEqual(cache.get("small"), Buffer.from("kept"));
  });

  it("does not keep a failed load, and runs the next load again", async () => {
    const cache = createCache<string>({ bound: { maxEntries: 10 } });
    const g = gate<string>();
    const first = cache.load("k", g.loader);
    const joined = cache.load("k", g.loader);
    g.reject(new Error("database down"));
    await assert.rejects(first, /database down/);
    await assert.rejects(joined, /database down/);
    assert.equal(cache.has("k"), false);
    const again = cache.load("k", g.loader);
    g.resolve("V");
    assert.equal(await again, "V");
    assert.equal(g.runs(), 2);
  });

  it("keeps nothing from a load that a write overtook, and never lets a later epoch join it", async () => {
    const w = world();
    const cache = createCache<string>({ bound: { maxEntries: 10 }, epoch: w.epochOf });
    const before = gate<string>();
    const old = cache.load("k", before.loader);
    w.epoch++; // a write lands while the first load is reading
    const after = gate<string>();
    const fresh = cache.load("k", after.loader);
    assert.equal(after.runs(), 1, "a caller after the write starts its own load");
    before.resolve("old");
    after.resolve("new");
    assert.equal(await old, "old");
    assert.equal(await fresh, "new");
    assert.equal(cache.get("k"), "new");
  });

  it("delete and clear drop entries", () => {
    const cache = createCache<string>({ bound: { maxEntries: 10 } });
    cache.set("a", "A");
    cache.set("b", "B");
    cache.delete("a");
    assert.equal(cache.has("a"), false);
    cache.clear();
    assert.deepEqual([...cache.keys()], []);
  });
});
