import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buffer } from "node:stream/consumers";
import { describe, it } from "node:test";
import type { BlobStore } from "./blob-store.js";
import { runBlobStoreSuite } from "./blob-store-suite.js";
import { putContent } from "./content.js";
import { withContentCache } from "./content-cache.js";
import { createFsBlobStore } from "./fs/fs-blob-store.js";

async function read(store: BlobStore, key: string): Promise<Buffer> {
  const stream = await store.get(key);
  assert.ok(stream, `blob ${key} is missing`);
  return buffer(stream);
}

async function makeStore() {
  const root = await mkdtemp(join(tmpdir(), "protodepot-content-cache-"));
  const inner = await createFsBlobStore({ root, fsync: false });
  // Every round trip to the store that serves bytes or sizes: a miss must cost exactly one.
  let gets = 0;
  const counting: BlobStore = {
    ...inner,
    get: (key, o) => {
      gets++;
      return inner.get(key, o);
    },
    read: (key, o) => {
      gets++;
      return inner.read(key, o);
    },
    stat: (key, o) => {
      gets++;
      return inner.stat(key, o);
    },
  };
  const store = withContentCache(counting, { maxBytes: 1000, maxItemBytes: 400 });
  return { store, gets: () => gets, cleanup: () => rm(root, { recursive: true, force: true }) };
}

// The wrapper is a BlobStore like any other: the whole contract holds through it.
runBlobStoreSuite("fs + content cache", async () => {
  const root = await mkdtemp(join(tmpdir(), "protodepot-content-cache-suite-"));
  const store = withContentCache(await createFsBlobStore({ root, fsync: false }), {
    maxBytes: 1 << 20,
    maxItemBytes: 1 << 16,
  });
  return { store, cleanup: () => rm(root, { recursive: true, force: true }) };
});

describe("content cache", () => {
  it("serves a small content blob from memory after the first read", async () => {
    const { store, gets, cleanup } = await makeStore();
    const { key } = await putContent(store, new Uint8Array(300).fill(7));
    for (let i = 0; i < 3; i++) {
      const stream = await store.get(key);
      assert.ok(stream);
      assert.deepEqual(new Uint8Array(await buffer(stream)), new Uint8Array(300).fill(7));
    }
    assert.equal(gets(), 1);
    await cleanup();
  });

  it("streams large blobs from the store every time and keeps memory bounded", async () => {
    const { store, gets, cleanup } = await makeStore();
    const big = await putContent(store, new Uint8Array(500).fill(1));
    await read(store, big.key);
    await read(store, big.key);
    assert.equal(gets(), 2);
    // Four 300-byte blobs do not fit in 1000 bytes: the least recently used one is read again.
    const keys = [];
    for (let i = 0; i < 4; i++) keys.push((await putContent(store, new Uint8Array(300).fill(i + 10))).key);
    for (const key of keys) await read(store, key);
    const before = gets();
    await read(store, keys[0] ?? "");
    assert.equal(gets(), before + 1);
    await cleanup();
  });

  it("forgets a deleted blob", async () => {
    const { store, cleanup } = await makeStore();
    const { key } = await putContent(store, new Uint8Array(10).fill(3));
    await read(store, key);
    await store.delete(key);
    assert.equal(await store.get(key), undefined);
    assert.equal(await store.stat(key), undefined);
    await cleanup();
  });
});
