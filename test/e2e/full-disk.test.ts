// A full data disk: reads with a token keep working, writes answer 507 saying why, /healthz says so, and everything
// recovers once space returns. The data dir is a small tmpfs this test mounts (root only) and fills itself.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, open, rm, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { adminToken, callApi, startTestServer, type TestServer } from "./support/server.js";

/** Mounts a 64 MiB tmpfs, or says why it cannot (not root, no mount): skipped locally, a failure in CI. */
async function mountTmpfs(): Promise<{ dir?: string; skip?: string }> {
  const dir = await mkdtemp(join(tmpdir(), "protodepot-full-disk-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=64m,mode=0755", "tmpfs", dir], { stdio: "pipe" });
    return { dir };
  } catch (err) {
    await rmdir(dir);
    const why = `cannot mount a tmpfs (root needed): ${String(err)}`;
    if (process.env.CI === "true") throw new Error(why);
    return { skip: why };
  }
}

/** Writes zeros until the filesystem refuses (ENOSPC), in big then page-sized pieces: nothing is left. */
async function fill(file: string): Promise<void> {
  const handle = await open(file, "w");
  try {
    for (const size of [1 << 20, 4096]) {
      const chunk = Buffer.alloc(size);
      for (;;) {
        const wrote = await handle.write(chunk).then(
          () => true,
          (err: NodeJS.ErrnoException) => {
            if (err.code !== "ENOSPC") throw err;
            return false;
          },
        );
        if (!wrote) break;
      }
    }
  } finally {
    await handle.close().catch(() => {});
  }
}

const b64 = (s: string) => Buffer.from(s).toString("base64");
const files = (message: string) => [
  { path: "buf.yaml", content: b64("version: v1\nname: buf.build/alice/pay\n") },
  { path: "pay/v1/pay.proto", content: b64(`syntax = "proto3";\npackage pay.v1;\nmessage ${message} {}\n`) },
];

const mounted = await mountTmpfs();

describe("full disk", { skip: mounted.skip ?? false }, () => {
  const dir = mounted.dir ?? "";
  const filler = join(dir, "filler");
  let server: TestServer;
  const tokens: Record<string, string> = {};

  const ok = async (method: string, body: unknown, token = adminToken) => {
    const res = await callApi(server.url, method, body, token);
    const text = await res.text();
    assert.equal(res.status, 200, `${method}: ${text}`);
    return JSON.parse(text) as Record<string, unknown>;
  };
  const download = (token: string) =>
    fetch(`${server.url}/alice/pay/archive/main.tar.gz`, { headers: { authorization: `Bearer ${token}` } });
  const healthz = async () =>
    (await fetch(`${server.url}/healthz`)).json() as Promise<Record<string, unknown>>;
  /** The readiness part of /healthz: ok and what is degraded (the sandbox's mode is reported beside them). */
  const readiness = async () => {
    const { ok, degraded } = await healthz();
    return degraded === undefined ? { ok } : { ok, degraded };
  };

  before(async () => {
    server = await startTestServer({
      dataDir: dir,
      // 64 MiB in all: 8 MiB free is plenty for this test's writes, and "low" only when the filler is there.
      // Every /healthz probes (no interval), so each answer below reflects the disk at that moment.
      env: {
        PROTODEPOT_HEALTH_MIN_FREE_BYTES: String(8 << 20),
        PROTODEPOT_HEALTH_PROBE_INTERVAL_MS: "0",
        PROTODEPOT_BUILTIN_PLUGINS: "false",
      },
    });
    await ok("UserService/CreateUser", { name: "alice" });
    for (const name of ["used", "fresh"])
      tokens[name] = (await ok("UserService/CreateToken", { user: "alice", note: name })).token as string;
    await ok("ModuleService/Push", { module: "", files: files("A") }, tokens.used);
    assert.equal((await download(tokens.used as string)).status, 200);
  });
  after(async () => {
    await server?.stop();
    execFileSync("umount", [dir]);
    await rm(dir, { recursive: true, force: true });
  });

  it("serves token reads, refuses writes with 507, reports it, and recovers when space returns", async () => {
    assert.deepEqual(await readiness(), { ok: true });
    await fill(filler);

    // The token never used yet: authenticating it would write last_used_at, which a full disk refuses.
    const first = await download(tokens.fresh as string);
    assert.equal(first.status, 200, await first.clone().text());
    assert.equal((await download(tokens.used as string)).status, 200);
    await ok("UserService/ListTokens", {}, tokens.fresh);

    const refused = await callApi(
      server.url,
      "ModuleService/Push",
      { module: "", files: files("B") },
      tokens.used,
    );
    const body = await refused.text();
    assert.equal(refused.status, 507, body);
    assert.equal(refused.headers.get("retry-after"), "60");
    assert.match(
      JSON.parse(body).message,
      /^the server's storage is full: nothing was written; try again later/,
    );

    const full = await healthz();
    assert.equal(full.ok, true, "reads still work: the node stays in the load balancer");
    assert.deepEqual(full.degraded, ["low free space", "storage full"]);

    await rm(filler);
    assert.deepEqual(await readiness(), { ok: true });
    await ok("ModuleService/Push", { module: "", files: files("B") }, tokens.used);
    const after = await download(tokens.fresh as string);
    assert.equal(after.status, 200);
    // The archive now holds the recovered push: message B.
    const tar = execFileSync("tar", ["-xzO"], { input: Buffer.from(await after.arrayBuffer()) }).toString();
    assert.match(tar, /message B/);
  });
});
