// The contract every BlobStore driver passes: `runBlobStoreSuite("fs", …)`, `("s3", …)`.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { afterEach, beforeEach, describe, it } from "node:test";
import { Code, isRegistryError } from "../../core/errors.js";
import type { BlobStore } from "./blob-store.js";
import { withContentCache } from "./content-cache.js";
import { contentKey, sha256Hex } from "./paths.js";
import { type CorruptBlob, isCorruptBlobError, withVerification } from "./verify.js";

/** One empty store made by a driver for one test. */
export interface BlobStoreHarness {
  store: BlobStore;
  /** Removes everything the store wrote. */
  cleanup(): Promise<void>;
}

async function read(store: BlobStore, key: string): Promise<Buffer | undefined> {
  const stream = await store.get(key);
  return stream && buffer(stream);
}

async function keys(store: BlobStore, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const key of store.list(prefix)) out.push(key);
  return out.sort();
}

/** Yields `parts` chunks of `size` bytes each, then optionally fails. */
function chunked(size: number, parts: number, failAfter?: number): Readable {
  return Readable.from(
    (async function* () {
      for (let i = 0; i < parts; i++) {
        if (i === failAfter) throw new Error("source broke");
        yield Buffer.alloc(size, i % 256);
      }
    })(),
  );
}

/** Puts, overwrites and write-once. */
function writeCases(current: () => BlobStore): void {
  let store: BlobStore;
  beforeEach(() => {
    store = current();
  });

  it("puts bytes and gets them back", async () => {
    const data = randomBytes(1000);
    assert.deepEqual(await store.put("a/b/c.bin", data), { size: 1000 });
    assert.deepEqual(await read(store, "a/b/c.bin"), data);
    assert.deepEqual(await store.stat("a/b/c.bin"), { size: 1000 });
  });

  it("puts a stream", async () => {
    assert.deepEqual(await store.put("stream", chunked(1024, 10)), { size: 10_240 });
    const got = await read(store, "stream");
    assert.equal(got?.byteLength, 10_240);
    assert.equal(got?.[1024 * 9], 9);
  });

  it("stores an empty blob", async () => {
    assert.deepEqual(await store.put("empty", new Uint8Array()), { size: 0 });
    assert.deepEqual(await store.stat("empty"), { size: 0 });
    assert.deepEqual(await read(store, "empty"), Buffer.alloc(0));
  });

  it("answers undefined for missing keys and ignores deleting them", async () => {
    assert.equal(await store.get("nope/x"), undefined);
    assert.equal(await store.stat("nope/x"), undefined);
    await store.delete("nope/x");
    await store.put("dir/file", Buffer.from("x"));
    // A prefix of a key is not a key, and neither is a path below a key.
    assert.equal(await store.get("dir"), undefined);
    assert.equal(await store.stat("dir"), undefined);
    assert.equal(await store.get("dir/file/below"), undefined);
    assert.equal(await store.stat("dir/file/below"), undefined);
  });

  it("overwrites a key", async () => {
    await store.put("k", Buffer.from("first version"));
    await store.put("k", Buffer.from("second"));
    assert.equal((await read(store, "k"))?.toString(), "second");
    assert.deepEqual(await store.stat("k"), { size: 6 });
  });

  it("writes once with ifAbsent: the first blob stays", async () => {
    assert.deepEqual(await store.put("once", Buffer.from("first"), { ifAbsent: true }), { size: 5 });
    assert.deepEqual(await store.put("once", Buffer.from("second!"), { ifAbsent: true }), { size: 5 });
    assert.deepEqual(await store.put("once", chunked(1024, 4), { ifAbsent: true }), { size: 5 });
    assert.equal((await read(store, "once"))?.toString(), "first");
  });

  it("lets exactly one of racing ifAbsent writers win", async () => {
    const bodies = Array.from({ length: 8 }, (_, i) => Buffer.alloc(4096 + i, i));
    const stats = await Promise.all(bodies.map((b) => store.put("race", b, { ifAbsent: true })));
    const got = await read(store, "race");
    assert.ok(got);
    const winner = bodies.findIndex((b) => b.equals(got));
    assert.ok(winner >= 0, "the stored blob is one writer's body, whole");
    // Losers may have answered before the winner's write landed, but never with a torn size.
    for (const stat of stats) assert.ok(bodies.some((b) => b.byteLength === stat.size));
    assert.deepEqual(await keys(store, ""), ["race"]);
  });
}

/** Reads, ranges, deletes and listings. */
function readCases(current: () => BlobStore): void {
  let store: BlobStore;
  beforeEach(() => {
    store = current();
  });

  it("reads a blob with its size in one call", async () => {
    const data = randomBytes(3000);
    await store.put("r/blob", data);
    const whole = await store.read("r/blob");
    assert.ok(whole);
    assert.equal(whole.size, 3000);
    assert.equal(whole.length, 3000);
    assert.deepEqual(await buffer(whole.stream), data);
    assert.equal(await store.read("r/missing"), undefined);
    assert.equal(await store.read("r"), undefined);

    await store.put("r/empty", new Uint8Array());
    const empty = await store.read("r/empty");
    assert.deepEqual(empty && { size: empty.size, length: empty.length }, { size: 0, length: 0 });
    assert.deepEqual(empty && (await buffer(empty.stream)), Buffer.alloc(0));
  });

  it("reads byte ranges", async () => {
    const data = randomBytes(3000);
    await store.put("ranged", data);
    const cases: [{ start: number; end?: number }, number, number][] = [
      [{ start: 0, end: 0 }, 0, 1],
      [{ start: 100, end: 199 }, 100, 200],
      [{ start: 2990 }, 2990, 3000],
      [{ start: 2000, end: 9999 }, 2000, 3000],
    ];
    for (const [range, from, to] of cases) {
      const part = await store.read("ranged", { range });
      assert.ok(part);
      assert.equal(part.size, 3000, JSON.stringify(range));
      assert.equal(part.length, to - from, JSON.stringify(range));
      assert.deepEqual(await buffer(part.stream), data.subarray(from, to), JSON.stringify(range));
    }
    const invalid = (err: unknown) => isRegistryError(err, Code.InvalidArgument);
    await assert.rejects(store.read("ranged", { range: { start: 3000 } }), invalid);
    await assert.rejects(store.read("ranged", { range: { start: 10, end: 5 } }), invalid);
    await assert.rejects(store.read("ranged", { range: { start: -1 } }), invalid);
  });

  it("deletes a key", async () => {
    await store.put("x/y", Buffer.from("1"));
    await store.put("x/z", Buffer.from("2"));
    await store.delete("x/y");
    assert.equal(await store.get("x/y"), undefined);
    assert.deepEqual(await keys(store, ""), ["x/z"]);
  });

  it("lists keys by prefix", async () => {
    for (const key of ["sha256/ab/ab01", "sha256/ab/ab02", "sha256/cd/cd01", "other/file", "top"]) {
      await store.put(key, Buffer.from(key));
    }
    assert.deepEqual(await keys(store, ""), [
      "other/file",
      "sha256/ab/ab01",
      "sha256/ab/ab02",
      "sha256/cd/cd01",
      "top",
    ]);
    assert.deepEqual(await keys(store, "sha256/"), ["sha256/ab/ab01", "sha256/ab/ab02", "sha256/cd/cd01"]);
    assert.deepEqual(await keys(store, "sha256/ab/"), ["sha256/ab/ab01", "sha256/ab/ab02"]);
    assert.deepEqual(await keys(store, "sha256/ab/ab0"), ["sha256/ab/ab01", "sha256/ab/ab02"]);
    assert.deepEqual(await keys(store, "sha256/c"), ["sha256/cd/cd01"]);
    assert.deepEqual(await keys(store, "t"), ["top"]);
    assert.deepEqual(await keys(store, "missing/"), []);
  });
}

/** Bad keys, failed writes and large blobs. */
function failureCases(current: () => BlobStore): void {
  let store: BlobStore;
  beforeEach(() => {
    store = current();
  });

  it("rejects invalid keys", async () => {
    const bad = ["", "/abs", "a//b", "a/../b", "..", "a/./b", "trailing/", "sp ace", "a\\b", "nul\0", "é"];
    for (const key of bad) {
      const invalid = (err: unknown) => isRegistryError(err, Code.InvalidArgument);
      await assert.rejects(store.put(key, Buffer.from("x")), invalid, `put ${JSON.stringify(key)}`);
      await assert.rejects(store.get(key), invalid, `get ${JSON.stringify(key)}`);
      await assert.rejects(store.stat(key), invalid, `stat ${JSON.stringify(key)}`);
      await assert.rejects(store.read(key), invalid, `read ${JSON.stringify(key)}`);
      await assert.rejects(store.delete(key), invalid, `delete ${JSON.stringify(key)}`);
    }
    await assert.rejects(keys(store, "../"), (err: unknown) => isRegistryError(err, Code.InvalidArgument));
    assert.deepEqual(await keys(store, ""), []);
  });

  it("leaves nothing visible after an aborted put", async () => {
    const controller = new AbortController();
    const body = new Readable({ read() {} });
    body.push(Buffer.alloc(64 * 1024, 1));
    const put = store.put("aborted", body, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await assert.rejects(put);
    assert.equal(await store.stat("aborted"), undefined);
    assert.deepEqual(await keys(store, ""), []);

    const already = AbortSignal.abort();
    await assert.rejects(store.put("aborted", Buffer.from("x"), { signal: already }));
    assert.equal(await store.stat("aborted"), undefined);
  });

  it("keeps the old blob when a replacing put fails halfway", async () => {
    await store.put("kept", Buffer.from("old"));
    await assert.rejects(store.put("kept", chunked(64 * 1024, 8, 4)), /source broke/);
    await assert.rejects(store.put("new", chunked(64 * 1024, 8, 4)), /source broke/);
    assert.equal((await read(store, "kept"))?.toString(), "old");
    assert.equal(await store.stat("new"), undefined);
    assert.deepEqual(await keys(store, ""), ["kept"]);
  });

  it("streams a large blob in and out", async () => {
    const chunk = 1024 * 1024;
    assert.deepEqual(await store.put("large", chunked(chunk, 20)), { size: 20 * chunk });
    assert.deepEqual(await store.stat("large"), { size: 20 * chunk });
    const stream = await store.get("large");
    assert.ok(stream);
    let size = 0;
    let last = -1;
    for await (const part of stream) {
      assert.ok(part instanceof Uint8Array);
      size += part.byteLength;
      last = part[part.byteLength - 1] ?? -1;
    }
    assert.equal(size, 20 * chunk);
    assert.equal(last, 19);
  });
}

/** verify.ts over this driver: corrupt content never reaches a reader as a success. */
function verifyCases(current: () => BlobStore): void {
  let store: BlobStore;
  beforeEach(() => {
    store = current();
  });

  /** Bytes, the content key they belong under, and the same bytes with one byte flipped. */
  const blob = (size: number) => {
    const good = randomBytes(size);
    const bad = Buffer.from(good);
    bad[size >> 1] = (bad[size >> 1] ?? 0) ^ 0x01;
    return { good, bad, key: contentKey(sha256Hex(good)) };
  };
  /** Reads a stream to its end or its error: what a client would have received, and how it ended. */
  const drain = async (stream: Readable) => {
    let got = 0;
    try {
      for await (const part of stream) got += (part as Uint8Array).byteLength;
      return { got, error: undefined };
    } catch (error) {
      return { got, error };
    }
  };

  it("passes intact content blobs, whole and in ranges", async () => {
    const { good, key } = blob(3000);
    await store.put(key, good);
    const verified = withVerification(store);
    assert.deepEqual(await read(verified, key), good);
    const part = await verified.read(key, { range: { start: 100, end: 199 } });
    assert.ok(part);
    assert.deepEqual([part.size, part.length], [3000, 100]);
    assert.deepEqual(await buffer(part.stream), good.subarray(100, 200));
    await store.put("not/content", Buffer.from("anything"));
    assert.equal((await read(verified, "not/content"))?.toString(), "anything");
  });

  it("fails a flipped byte before the whole blob is delivered, and reports it once", async () => {
    for (const size of [1, 3000, 3 * 1024 * 1024]) {
      const { bad, key } = blob(size);
      await store.put(key, bad);
      const seen: CorruptBlob[] = [];
      const verified = withVerification(store, { onCorrupt: (b) => seen.push(b) });
      const { got, error } = await drain((await verified.get(key)) ?? Readable.from([]));
      assert.ok(isCorruptBlobError(error), `size ${size}: ${String(error)}`);
      assert.ok(got < size, `size ${size}: ${got} bytes delivered, never all`);
      assert.equal(seen.length, 1);
      assert.equal(seen[0]?.key, key);
      assert.equal(seen[0]?.actual, sha256Hex(bad));
      const ranged = await verified.read(key, { range: { start: 0, end: 0 } });
      assert.ok(ranged);
      assert.ok(
        isCorruptBlobError((await drain(ranged.stream)).error),
        "a range of a corrupt blob fails too",
      );
    }
  });

  it("checks a small blob once, when the content cache loads it", async () => {
    const { good, bad, key } = blob(2000);
    await store.put(key, bad);
    let corrupt = 0;
    const cached = withContentCache(withVerification(store, { onCorrupt: () => corrupt++ }), {
      maxBytes: 1 << 20,
      maxItemBytes: 1 << 16,
    });
    await assert.rejects(cached.getBuffer(key), (err: unknown) => isCorruptBlobError(err));
    await assert.rejects(
      (async () => buffer((await cached.get(key)) ?? Readable.from([])))(),
      (err: unknown) => isCorruptBlobError(err),
    );
    assert.equal(corrupt, 2, "a failed load keeps nothing: each read checks again");
    // Healed in place (the bytes written again): loaded, checked once, then answered from memory.
    await cached.delete(key);
    await cached.put(key, good);
    assert.deepEqual(await cached.getBuffer(key), good);
    await store.put(key, bad);
    assert.deepEqual(await cached.getBuffer(key), good, "kept answers are not hashed again");
    assert.equal(corrupt, 2);
  });
}

export function runBlobStoreSuite(driverName: string, make: () => Promise<BlobStoreHarness>): void {
  describe(`BlobStore contract: ${driverName}`, () => {
    let harness: BlobStoreHarness;
    beforeEach(async () => {
      harness = await make();
    });
    afterEach(async () => {
      await harness.cleanup();
    });
    const current = () => harness.store;
    describe("writes", () => writeCases(current));
    describe("reads", () => readCases(current));
    describe("failures", () => failureCases(current));
    describe("verify on read (verify.ts over this driver)", () => verifyCases(current));
  });
}
