// Hostile and ordinary layers, built in code, unpacked into a temp root; nothing may land outside it.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import { pack } from "tar-stream";
import {
  applyLayer,
  createTarEndScanner,
  finishRoot,
  LayerError,
  type UnpackLimits,
  type UnpackState,
} from "./unpack.js";

type TestEntry =
  | { name: string; type?: "file"; content?: string; mode?: number }
  | { name: string; type: "directory" | "fifo" | "character-device"; mode?: number }
  | { name: string; type: "symlink" | "link"; linkname: string };

/** A tar (gzip-compressed unless `plain`) of the entries, in order. */
export async function layer(entries: readonly TestEntry[], plain = false): Promise<Buffer> {
  const p = pack();
  for (const e of entries) {
    if (e.type === undefined || e.type === "file") {
      p.entry({ name: e.name, mode: e.mode ?? 0o644 }, Buffer.from(e.content ?? ""));
    } else if (e.type === "symlink" || e.type === "link") {
      p.entry({ name: e.name, type: e.type, linkname: e.linkname });
    } else {
      p.entry({ name: e.name, type: e.type, mode: "mode" in e && e.mode !== undefined ? e.mode : 0o755 });
    }
  }
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(Buffer.from(c as Uint8Array));
  const tarBytes = Buffer.concat(chunks);
  return plain ? tarBytes : gzipSync(tarBytes);
}

const limits: UnpackLimits = { maxBytes: 1 << 20, maxEntries: 100 };

describe("applyLayer", () => {
  let dir: string;
  let root: string;
  let outside: string;
  let n = 0;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "protodepot-unpack-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  /** A fresh root beside a sibling directory that must stay empty. */
  const fresh = () => {
    n++;
    root = join(dir, `root-${n}`, "rootfs");
    outside = join(dir, `root-${n}`, "outside");
    mkdirSync(root, { recursive: true });
    mkdirSync(outside);
  };
  const apply = async (bytes: Buffer, l = limits) =>
    applyLayer(root, Readable.from([bytes], { objectMode: false }), l, { bytes: 0, entries: 0 });
  const refused = async (bytes: Buffer, message: RegExp, l = limits) => {
    await assert.rejects(apply(bytes, l), (err: unknown) => {
      assert.ok(err instanceof LayerError, String(err));
      assert.match(err.message, message);
      return true;
    });
    assert.deepEqual(readdirSync(outside), [], "nothing was written outside the root");
  };

  test("an ordinary layer: files, modes normalized, symlinks kept, plain tar and gzip alike", async () => {
    fresh();
    await apply(
      await layer([
        { name: "./usr/bin/protoc-gen-x", content: "#!bin", mode: 0o4755 },
        { name: "etc/conf", content: "a=1", mode: 0o600 },
        { name: "bin", type: "symlink", linkname: "usr/bin" },
        { name: "dev/null", type: "character-device" },
        { name: "fifo", type: "fifo" },
      ]),
    );
    await apply(await layer([{ name: "etc/more", content: "b" }], true));
    finishRoot(root);
    assert.equal(readFileSync(join(root, "usr/bin/protoc-gen-x"), "utf8"), "#!bin");
    assert.equal(lstatSync(join(root, "usr/bin/protoc-gen-x")).mode & 0o7777, 0o755, "setuid dropped");
    assert.equal(lstatSync(join(root, "etc/conf")).mode & 0o7777, 0o644);
    assert.equal(readlinkSync(join(root, "bin")), "usr/bin");
    assert.equal(existsSync(join(root, "fifo")), false, "no FIFOs");
    assert.deepEqual(readdirSync(join(root, "dev")), [], "no device nodes");
    assert.equal(readFileSync(join(root, "etc/more"), "utf8"), "b");
    for (const d of ["tmp", "proc", "dev"]) assert.ok(lstatSync(join(root, d)).isDirectory());
  });

  test("whiteouts and opaque directories remove what lower layers made", async () => {
    fresh();
    await apply(
      await layer([
        { name: "a/x", content: "1" },
        { name: "a/y", content: "2" },
        { name: "b/z", content: "3" },
      ]),
    );
    await apply(
      await layer([{ name: "a/.wh.x" }, { name: "b/.wh..wh..opq" }, { name: "b/new", content: "4" }]),
    );
    assert.deepEqual(readdirSync(join(root, "a")), ["y"]);
    assert.deepEqual(readdirSync(join(root, "b")), ["new"]);
  });

  test("later layers replace files, also a file with a directory and back", async () => {
    fresh();
    await apply(await layer([{ name: "p", content: "file" }]));
    await apply(
      await layer([
        { name: "p", type: "directory" },
        { name: "p/inner", content: "now a dir" },
      ]),
    );
    assert.equal(readFileSync(join(root, "p/inner"), "utf8"), "now a dir");
    await apply(await layer([{ name: "p", content: "a file again" }]));
    assert.equal(readFileSync(join(root, "p"), "utf8"), "a file again");
  });

  test("../ names are refused", async () => {
    fresh();
    await refused(await layer([{ name: "../outside/pwned", content: "x" }]), /climbs out of the image root/);
    await refused(await layer([{ name: "a/../../outside/pwned", content: "x" }]), /climbs out/);
  });

  test("absolute names are refused", async () => {
    fresh();
    await refused(await layer([{ name: "/etc/pwned", content: "x" }]), /absolute name/);
  });

  test("a symlink in the middle of a path resolves inside the root", async () => {
    fresh();
    const climb = join("..", "..", "..", "..", "..", "..", outside);
    await apply(
      await layer([
        { name: "up", type: "symlink", linkname: climb },
        { name: "abs", type: "symlink", linkname: outside },
        { name: "up/pwned", content: "x" },
        { name: "abs/pwned2", content: "y" },
      ]),
    );
    assert.deepEqual(readdirSync(outside), []);
    // Both land inside the root, where the symlinks point when / is the root.
    assert.equal(readFileSync(join(root, outside, "pwned"), "utf8"), "x");
    assert.equal(readFileSync(join(root, outside, "pwned2"), "utf8"), "y");
  });

  test("the last component is never followed: a file replaces a symlink planted at its name", async () => {
    fresh();
    await apply(
      await layer([
        { name: "trap", type: "symlink", linkname: join(outside, "target") },
        { name: "trap", content: "replaces the link" },
      ]),
    );
    assert.deepEqual(readdirSync(outside), []);
    assert.ok(lstatSync(join(root, "trap")).isFile());
  });

  test("hard links only to regular files already inside", async () => {
    fresh();
    await apply(
      await layer([
        { name: "real", content: "r" },
        { name: "alias", type: "link", linkname: "real" },
      ]),
    );
    assert.equal(lstatSync(join(root, "alias")).ino, lstatSync(join(root, "real")).ino);
    await refused(await layer([{ name: "h", type: "link", linkname: "/etc/passwd" }]), /absolute name/);
    await refused(await layer([{ name: "h", type: "link", linkname: "../outside/x" }]), /climbs out/);
    await refused(
      await layer([
        { name: "rootlink", type: "symlink", linkname: "/" },
        { name: "h", type: "link", linkname: "rootlink/etc/passwd" },
      ]),
      /does not exist in the image/,
    );
    await refused(
      await layer([
        { name: "d", type: "directory" },
        { name: "h", type: "link", linkname: "d" },
      ]),
      /not a regular file/,
    );
  });

  test("a whiteout of / or .. is refused", async () => {
    fresh();
    await refused(await layer([{ name: ".wh.." }]), /whites out/);
    await refused(await layer([{ name: "a/.wh..." }]), /whites out/);
  });

  test("a layer that expands past the cap is refused, as are too many entries", async () => {
    fresh();
    const big = "z".repeat(300_000);
    await refused(
      await layer([
        { name: "a", content: big },
        { name: "b", content: big },
        { name: "c", content: big },
        { name: "d", content: big },
      ]),
      /expands to more than 1048576 bytes/,
    );
    fresh();
    await refused(
      await layer(Array.from({ length: 120 }, (_, i) => ({ name: `f${i}`, content: "" }))),
      /more than 100 layer entries/,
    );
  });

  test("zstd layers are refused with a clear message; garbage is not a tar", async () => {
    fresh();
    await refused(
      Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]),
      /zstd-compressed layers are not supported/,
    );
    await refused(Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.alloc(100, 7)]), /not a valid tar/);
  });

  /** Disk bytes of a tree as `du` counts them (allocated blocks, each inode once). */
  const du = (path: string) =>
    Number(execFileSync("du", ["-s", "-B1", path], { encoding: "utf8" }).split("\t")[0]);

  test("every entry counts at the block size: a directory bomb's count matches du within 10 %", async () => {
    fresh();
    const dirs = Array.from({ length: 3000 }, (_, i) => ({
      name: `d${i % 30}/e${i}/`,
      type: "directory" as const,
    }));
    const state: UnpackState = { bytes: 0, entries: 0 };
    const roomy = { maxBytes: 1 << 30, maxEntries: 10_000, blockSize: 4096 };
    await applyLayer(root, Readable.from([await layer(dirs)], { objectMode: false }), roomy, state);
    await applyLayer(
      root,
      Readable.from(
        [
          await layer([
            { name: "f/a", content: "x".repeat(5000) },
            { name: "f/b", type: "link", linkname: "f/a" },
          ]),
        ],
        {
          objectMode: false,
        },
      ),
      roomy,
      state,
    );
    const measured = du(root);
    assert.ok(measured > 3000 * 4096, `du counts the directories: ${measured}`);
    assert.ok(Math.abs(state.bytes - measured) <= measured * 0.1, `counted ${state.bytes}, du ${measured}`);
    // The same bomb against a cap that file bytes alone would never reach.
    fresh();
    await refused(await layer(dirs), /expands to more than 1048576 bytes on disk/, {
      maxBytes: 1 << 20,
      maxEntries: 10_000,
    });
  });

  test("reading stops at the tar end: trailing data is read raw, never inflated", async () => {
    fresh();
    const tar = await layer([{ name: "usr/bin/x", content: "#!x" }], true);
    const trailing = Buffer.alloc(64 << 20);
    const gz = gzipSync(Buffer.concat([tar, trailing]), { level: 1 });
    let raw = 0;
    const counter = new PassThrough();
    counter.on("data", (c: Buffer) => {
      raw += c.length;
    });
    const state: UnpackState = { bytes: 0, entries: 0 };
    await applyLayer(
      root,
      Readable.from([gz], { objectMode: false }).pipe(counter),
      { maxBytes: 1 << 20, maxEntries: 10 },
      state,
    );
    assert.equal(readFileSync(join(root, "usr/bin/x"), "utf8"), "#!x");
    assert.ok(
      (state.tarBytes ?? 0) <= tar.length,
      `inflated ${state.tarBytes} bytes, the tar has ${tar.length}`,
    );
    assert.equal(
      raw,
      gz.length,
      "every compressed byte was still read (a verifying stream sees all of them)",
    );
  });

  test("the tar end scanner follows pax sizes and long names", async () => {
    const long = `${"deep/".repeat(60)}file`;
    const p = pack();
    p.entry({ name: long }, Buffer.from("a".repeat(700)));
    p.entry({ name: "x", pax: { size: "3" }, size: 3 }, Buffer.from("abc"));
    p.finalize();
    const chunks: Buffer[] = [];
    for await (const c of p) chunks.push(Buffer.from(c as Uint8Array));
    const tar = Buffer.concat(chunks);
    const scanner = createTarEndScanner();
    let taken = 0;
    let ended = false;
    // One byte at a time: headers split across chunks are reassembled.
    for (let i = 0; i < tar.length && !ended; i++) {
      const r = scanner.scan(tar.subarray(i, i + 1));
      taken += r.take;
      ended = r.ended;
    }
    assert.ok(ended, "found the end");
    assert.equal(taken, tar.length - 512, "up to and including the first of the two zero blocks");
  });

  test("a deadline stops the unpack: an aborted signal, or one that fires while a layer stalls", async () => {
    fresh();
    const reason = new Error("unpacking took longer than 5 ms (oci.unpackTimeoutMs)");
    await refused(await layer([{ name: "a", content: "x" }]), /oci\.unpackTimeoutMs/, {
      ...limits,
      signal: AbortSignal.abort(reason),
    });
    fresh();
    const ac = new AbortController();
    const stalled = new Readable({ read() {} });
    stalled.push((await layer([{ name: "a", content: "x" }], true)).subarray(0, 512));
    const pending = applyLayer(root, stalled, { ...limits, signal: ac.signal }, { bytes: 0, entries: 0 });
    setImmediate(() => ac.abort(reason));
    await assert.rejects(
      pending,
      (err: unknown) => err instanceof LayerError && /unpackTimeoutMs/.test(err.message),
    );
  });
});
