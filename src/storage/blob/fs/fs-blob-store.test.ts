import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Code, isRegistryError } from "../../../core/errors.js";
import { runBlobStoreSuite } from "../blob-store-suite.js";
import { createFsBlobStore } from "./fs-blob-store.js";

const tempRoot = () => mkdtemp(join(tmpdir(), "protodepot-blobs-"));

for (const fsync of [false, true]) {
  runBlobStoreSuite(fsync ? "fs (fsync)" : "fs", async () => {
    const root = await tempRoot();
    return {
      store: await createFsBlobStore({ root, fsync }),
      cleanup: () => rm(root, { recursive: true, force: true }),
    };
  });
}

describe("fs blob store", () => {
  it("removes stale temp files at open and keeps fresh ones", async () => {
    const root = await tempRoot();
    try {
      await mkdir(join(root, "tmp"), { recursive: true });
      await writeFile(join(root, "tmp", "stale"), "x");
      await writeFile(join(root, "tmp", "fresh"), "x");
      const old = new Date(Date.now() - 2 * 60 * 60 * 1000);
      await utimes(join(root, "tmp", "stale"), old, old);
      await createFsBlobStore({ root, fsync: false });
      assert.deepEqual(await readdir(join(root, "tmp")), ["fresh"]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("leaves no temp files behind after failed writes", async () => {
    const root = await tempRoot();
    try {
      const store = await createFsBlobStore({ root, fsync: false });
      await store.put("ok", Buffer.from("x"));
      await assert.rejects(store.put("aborted", Buffer.from("x"), { signal: AbortSignal.abort() }));
      assert.deepEqual(await readdir(join(root, "tmp")), []);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("reserves tmp/ for in-flight writes", async () => {
    const root = await tempRoot();
    try {
      const store = await createFsBlobStore({ root, fsync: false });
      await assert.rejects(store.put("tmp/x", Buffer.from("x")), (err: unknown) =>
        isRegistryError(err, Code.InvalidArgument),
      );
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
