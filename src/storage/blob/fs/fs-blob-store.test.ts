import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
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

  it("creates blobs, temp files and directories owner-only (0600/0700) even under umask 000", async () => {
    const root = join(await tempRoot(), "blobs");
    const umask = process.umask(0);
    try {
      const store = await createFsBlobStore({ root, fsync: false });
      const body = new PassThrough();
      const put = store.put("modules/acme/shop/files", body);
      body.write("in flight");
      // The write is parked on the temp file until the body ends: look at it there.
      let temp: string[] = [];
      for (let i = 0; i < 100 && temp.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 10));
        temp = await readdir(join(root, "tmp"));
      }
      assert.equal(temp.length, 1, "one temp file while the body streams");
      const modeOf = async (path: string) => (await stat(path)).mode & 0o777;
      assert.equal(await modeOf(join(root, "tmp", temp[0] ?? "")), 0o600);
      body.end();
      await put;
      for (const dir of [root, join(root, "tmp"), join(root, "modules"), join(root, "modules/acme/shop")]) {
        assert.equal(await modeOf(dir), 0o700, dir);
      }
      assert.equal(await modeOf(join(root, "modules/acme/shop/files")), 0o600);
    } finally {
      process.umask(umask);
      await rm(join(root, ".."), { recursive: true, force: true });
    }
  });
});
