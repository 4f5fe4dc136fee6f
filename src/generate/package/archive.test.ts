import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { createArchiveZip } from "./archive.js";

const exec = promisify(execFile);
const noUnzip = await exec("unzip", ["-v"]).then(
  () => false,
  () => "unzip is missing (.ci/apt/ruby.txt)",
);
const text = (s: string) => new TextEncoder().encode(s);
const files = [
  { path: "demo/payments/v1/payments_pb.ts", content: text("p") },
  { path: "b/x.ts", content: text("b") },
  { path: "a/y.ts", content: text("a") },
];

describe("zip archive packager", () => {
  it("gives the same bytes whatever the order of the files", async () => {
    const a = await createArchiveZip(files);
    const b = await createArchiveZip([...files].reverse());
    assert.deepEqual(Buffer.from(a), Buffer.from(b));
  });

  it("holds the files sorted by path, as unzip reads them", { skip: noUnzip }, async () => {
    const dir = await mkdtemp(join(tmpdir(), "protodepot-zip-"));
    try {
      const path = join(dir, "a.zip");
      await writeFile(path, await createArchiveZip(files));
      const { stdout } = await exec("unzip", ["-Z1", path]);
      assert.deepEqual(stdout.trim().split("\n"), ["a/y.ts", "b/x.ts", "demo/payments/v1/payments_pb.ts"]);
      assert.equal((await exec("unzip", ["-p", path, "b/x.ts"])).stdout, "b");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
