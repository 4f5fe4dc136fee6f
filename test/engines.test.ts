// package.json says which Node.js protodepot needs; every installed runtime dependency must accept that version.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { it } from "node:test";
import { promisify } from "node:util";
import semver from "semver";
import { repoRoot } from "./e2e/support/server.js";

it("every runtime dependency supports the Node.js version package.json promises", async () => {
  const own = JSON.parse(await readFile(join(repoRoot, "package.json"), "utf8")) as {
    engines: { node: string };
  };
  const oldest = semver.minVersion(own.engines.node)?.version ?? "";
  assert.equal(oldest, "20.0.0");
  const { stdout } = await promisify(execFile)("npm", ["ls", "--omit=dev", "--all", "--parseable"], {
    cwd: repoRoot,
    maxBuffer: 16 << 20,
  });
  const refused: string[] = [];
  const dirs = stdout.trim().split("\n").slice(1);
  assert.ok(dirs.length > 50, `only ${dirs.length} dependencies listed`);
  for (const dir of dirs) {
    const pkg = JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as {
      name: string;
      version: string;
      engines?: { node?: string };
    };
    const wanted = pkg.engines?.node;
    if (wanted && !semver.satisfies(oldest, wanted))
      refused.push(`${pkg.name}@${pkg.version} needs node ${wanted}`);
  }
  assert.deepEqual(refused, [], "pin a compatible version in package.json overrides, or raise engines.node");
});
