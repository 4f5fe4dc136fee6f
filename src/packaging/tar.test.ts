import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { constants, gunzipSync, gzipSync } from "node:zlib";
import { isRegistryError } from "../core/errors.js";
import { createTar, createTarGz, FIXED_MTIME, GZIP_OS_UNKNOWN, readTarGz, type TarEntry } from "./tar.js";

const text = (s: string) => new TextEncoder().encode(s);

const entries: TarEntry[] = [
  { path: "b/z.proto", content: text('syntax = "proto3";\n') },
  { path: "a.txt", content: text("hello\n") },
  { path: "bin/run", content: text("#!/bin/sh\n"), executable: true },
  { path: "b/a.proto", content: text("") },
  // Longer than the 100 bytes of a ustar name field: exercises the prefix field.
  { path: `${"d".repeat(80)}/${"e".repeat(60)}.proto`, content: text("x") },
];

describe("createTarGz", () => {
  it("gives the very bytes every earlier release gave (npm integrity and cached archives depend on them)", async () => {
    const entries: TarEntry[] = [
      { path: "b.txt", content: new TextEncoder().encode("bee\n") },
      { path: "a/x.ts", content: new TextEncoder().encode("export const x = 1;\n"), executable: true },
    ];
    const bytes = await createTarGz(entries);
    assert.equal(
      createHash("sha256").update(bytes).digest("hex"),
      "77236d5dcd405399baa308ad0e97f753423d183ded93ea96ad535c4bd5edac30",
    );
  });

  it("gives the bytes of a one-shot gzip of the whole tar, however large", async () => {
    const big = new Uint8Array(3 << 20).map((_, i) => (i * 2654435761) >>> 24);
    const entries = Array.from({ length: 30 }, (_, i) => ({
      path: `gen/f${i}.ts`,
      content: big.subarray(i * 100_000, (i + 1) * 100_000),
    }));
    const streamed = await createTarGz(entries);
    const whole = gzipSync(await createTar(entries), {
      level: constants.Z_BEST_COMPRESSION,
      windowBits: 15,
      memLevel: 8,
      strategy: constants.Z_DEFAULT_STRATEGY,
    });
    whole[9] = GZIP_OS_UNKNOWN;
    assert.ok(Buffer.from(streamed).equals(whole));
  });

  it("gives the same bytes whatever the input order", async () => {
    const one = await createTarGz(entries);
    const two = await createTarGz([...entries].reverse());
    assert.deepEqual(Buffer.from(one), Buffer.from(two));
  });

  it("gives the same bytes on every call", async () => {
    const one = await createTarGz(entries);
    const two = await createTarGz(entries);
    assert.equal(Buffer.from(one).toString("hex"), Buffer.from(two).toString("hex"));
  });

  it("writes a gzip header with mtime 0 and OS unknown", async () => {
    const gz = await createTarGz(entries);
    assert.deepEqual([...gz.subarray(0, 4)], [0x1f, 0x8b, 8, 0]);
    assert.deepEqual([...gz.subarray(4, 8)], [0, 0, 0, 0]);
    assert.equal(gz[8], 2, "XFL 2: maximum compression");
    assert.equal(gz[9], GZIP_OS_UNKNOWN);
  });

  it("round-trips through readTarGz, sorted by path in byte order", async () => {
    // "Z" (0x5a) sorts before "a" (0x61) in byte order; "é" (UTF-8 0xc3…) after every ASCII letter.
    const more = [...entries, { path: "é.md", content: text("e") }, { path: "Z.md", content: text("z") }];
    const back = await readTarGz(await createTarGz(more));
    const expected = [...more].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
    assert.deepEqual(
      back.map((e) => e.path),
      expected.map((e) => e.path),
    );
    for (const e of expected) {
      const got = back.find((b) => b.path === e.path);
      assert.ok(got);
      assert.deepEqual(Buffer.from(got.content), Buffer.from(e.content));
      assert.equal(got.executable ?? false, e.executable ?? false, e.path);
    }
  });

  it("reads from a stream too", async () => {
    const { Readable } = await import("node:stream");
    const gz = await createTarGz(entries);
    const back = await readTarGz(Readable.from([gz.subarray(0, 10), gz.subarray(10)]));
    assert.equal(back.length, entries.length);
  });

  it("writes fixed metadata that the real tar sees", async (t) => {
    const probe = spawnSync("tar", ["--version"]);
    // CI has every tool: there a missing one fails the test instead of skipping it.
    if (probe.error && !process.env.CI) return t.skip("tar is not installed");
    const dir = mkdtempSync(join(tmpdir(), "protodepot-tar-"));
    try {
      const file = join(dir, "out.tar.gz");
      writeFileSync(file, await createTarGz(entries));
      const listed = spawnSync("tar", ["--numeric-owner", "--full-time", "-tzvf", file], {
        encoding: "utf8",
        env: { ...process.env, TZ: "UTC", LC_ALL: "C" },
      });
      assert.equal(listed.status, 0, listed.stderr);
      const lines = listed.stdout.trim().split("\n");
      assert.equal(lines.length, entries.length, "no directory entries");
      for (const line of lines) {
        const [mode, owner, , date, time, name] = line.split(/\s+/);
        const exec = name === "bin/run";
        assert.equal(mode, exec ? "-rwxr-xr-x" : "-rw-r--r--", line);
        assert.equal(owner, "0/0", line);
        assert.equal(`${date}T${time}Z`, FIXED_MTIME.toISOString().replace(".000", ""), line);
      }
      assert.equal(
        lines.some((l) => l.includes(`${"d".repeat(80)}/`)),
        true,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("writes empty user and group names", async () => {
    const tar = gunzipSync(await createTarGz([{ path: "a", content: text("a") }]));
    // ustar uname at 265 and gname at 297, 32 bytes each.
    assert.ok(tar.subarray(265, 329).every((b) => b === 0));
  });

  it("rejects duplicate paths, naming the path", async () => {
    await assert.rejects(
      createTarGz([
        { path: "a/b.proto", content: text("1") },
        { path: "a/b.proto", content: text("2") },
      ]),
      (err) => isRegistryError(err) && /"a\/b\.proto"/.test(err.message),
    );
  });

  it("rejects paths that escape the archive", async () => {
    for (const path of ["../x", "/abs", "a//b", "a/./b", "", "a\\b"]) {
      await assert.rejects(createTarGz([{ path, content: text("") }]), isRegistryError, path);
    }
  });

  it("packs an empty list into a valid archive", async () => {
    assert.deepEqual(await readTarGz(await createTarGz([])), []);
  });
});
