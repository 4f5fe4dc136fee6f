import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Code, isRegistryError } from "../../core/errors.js";
import type { BlobStore } from "./blob-store.js";
import { putContent, readContent } from "./content.js";
import { createFsBlobStore } from "./fs/fs-blob-store.js";
import { contentKey, sha256Hex } from "./paths.js";

describe("content-addressed helpers", () => {
  let root: string;
  let store: BlobStore;
  const puts: (boolean | undefined)[] = [];

  before(async () => {
    root = await mkdtemp(join(tmpdir(), "protodepot-content-"));
    const fs = await createFsBlobStore({ root, fsync: false });
    // Records writes so the test can see that every one is write-once (the driver then skips known content).
    store = {
      ...fs,
      put: (key, body, opts) => {
        puts.push(opts?.ifAbsent);
        return fs.put(key, body, opts);
      },
    };
  });
  after(() => rm(root, { recursive: true, force: true }));

  it("stores bytes under their sha256 once and reads them back", async () => {
    const data = new TextEncoder().encode('syntax = "proto3";\n');
    const hex = sha256Hex(data);
    const first = await putContent(store, data);
    assert.deepEqual(first, { key: contentKey(hex), digest: `sha256:${hex}`, size: data.byteLength });
    const stored = await store.stat(first.key);
    assert.deepEqual(await putContent(store, data), first);
    assert.deepEqual(puts, [true, true]);
    assert.deepEqual(await store.stat(first.key), stored);
    assert.deepEqual(await readContent(store, first.key), data);
  });

  it("reports a missing blob as an internal error", async () => {
    await assert.rejects(readContent(store, contentKey("0".repeat(64))), (err: unknown) =>
      isRegistryError(err, Code.Internal),
    );
  });
});
