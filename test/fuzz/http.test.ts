// Property-based requests against the real server in process (fastify.inject): no request of any shape gets a
// 5xx, and every 4xx carries a message. Fixed seed and bounded runs, like parsers.test.ts.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { loadConfig } from "../../src/config/load.js";
import { type RunningServer, startServer } from "../../src/server.js";

const token = "pd_fuzz-admin-token-0123456789";
const runs = {
  seed: 20261201,
  numRuns: Number(process.env.FUZZ_RUNS ?? 150),
  interruptAfterTimeLimit: 30_000,
};

const segment = fc.oneof(
  fc.stringMatching(/^[a-z0-9._!@%-]{0,24}$/),
  fc.constantFrom(
    "demo",
    "payments",
    "money",
    "protodepot",
    "es",
    "go",
    "v1",
    "latest",
    "main",
    "@v",
    "list",
  ),
  fc.constantFrom(
    "main.tar.gz",
    ".tar.gz",
    "main.include_imports.tar.gz",
    "x.include_wkt.tar.gz",
    "v1.1.1.info",
  ),
  fc.constantFrom(
    "@latest",
    "v1.1.1.zip",
    "main.info",
    "%2e%2e",
    "..",
    "%00",
    "%ff",
    "@protodepot%2fx_y_z_w",
  ),
);
const path = fc.array(segment, { minLength: 1, maxLength: 8 }).map((s) => `/${s.join("/")}`);

describe("fuzzing the HTTP surface", () => {
  let dir: string;
  let server: RunningServer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "protodepot-fuzz-"));
    const config = loadConfig({
      env: {},
      overrides: {
        dataDir: dir,
        demo: true,
        adminToken: token,
        server: { port: 0 },
        log: { level: "silent" },
      },
    });
    server = await startServer(config);
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const check = (res: { statusCode: number; body: string }, what: string) => {
    assert.ok(res.statusCode < 500, `${what}: ${res.statusCode} ${res.body.slice(0, 300)}`);
    if (res.statusCode >= 400)
      assert.ok(res.body.trim().length > 10, `${what}: ${res.statusCode} without a message`);
  };

  it("GETs on every registry prefix", async () => {
    const prefix = fc.constantFrom(
      "",
      "/v1",
      "/go/protodepot.local",
      "/go",
      "/npm",
      "/npm/@protodepot",
      "/pypi/simple",
      "/pypi/files/protodepot-python-demo-payments",
    );
    const auth = fc.constantFrom(
      undefined,
      `Bearer ${token}`,
      "Bearer nope",
      "Basic !!!",
      "Basic eDp5",
      "Digest x",
    );
    await fc.assert(
      fc.asyncProperty(prefix, path, auth, async (p, rest, authorization) => {
        const url = `${p}${rest}`;
        const res = await server.app.inject({
          method: "GET",
          url,
          headers: authorization === undefined ? {} : { authorization },
        });
        check(res, `GET ${url}`);
      }),
      runs,
    );
  });

  it("pushes of any shape", async () => {
    const file = fc.record({
      path: fc.oneof(
        fc.constantFrom("buf.yaml", "buf.lock", "a/v1/a.proto", "README.md", "../x.proto", "a//b.proto"),
        fc.stringMatching(/^[a-z0-9/._-]{0,40}$/),
      ),
      content: fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.constantFrom(
          "version: v1\nname: buf.build/admin/fuzz\n",
          "version: v2\nmodules:\n  - path: a\n  - path: b\n",
          'syntax = "proto3";\npackage a.v1;\nmessage A { string x = 1; }\n',
          'syntax = "proto3";\nimport "missing.proto";\n',
          "version: v1\ndeps: [buf.build/demo/money]\n",
        ),
      ),
    });
    const body = fc.record({
      module: fc.constantFrom("", "admin/fuzz", "demo/money", "Nope", "a/b/c"),
      label: fc.constantFrom("", "main", "beta", "0123456789abcdef0123456789abcdef", "a b"),
      files: fc.array(file, { maxLength: 6 }),
    });
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        const payload = {
          ...b,
          files: b.files.map((f) => ({ path: f.path, content: Buffer.from(f.content).toString("base64") })),
        };
        const res = await server.app.inject({
          method: "POST",
          url: "/protodepot.v1.ModuleService/Push",
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          payload: JSON.stringify(payload),
        });
        check(res, `push ${JSON.stringify(b).slice(0, 200)}`);
      }),
      { ...runs, numRuns: Math.ceil(runs.numRuns / 2) },
    );
  });

  it("binary and JSON garbage to every API method", async () => {
    const method = fc.constantFrom(
      "ModuleService/Push",
      "ModuleService/ListCommits",
      "ModuleService/GetCommit",
      "ModuleService/CreateLabel",
      "TemplateService/CreateTemplate",
      "PluginService/ListPluginVersions",
      "UserService/CreateToken",
    );
    const payload = fc.oneof(
      fc.uint8Array({ maxLength: 256 }).map((b) => ({ type: "application/proto", body: Buffer.from(b) })),
      fc.json().map((j) => ({ type: "application/json", body: Buffer.from(j) })),
      fc.string().map((s) => ({ type: "application/json", body: Buffer.from(s) })),
    );
    await fc.assert(
      fc.asyncProperty(method, payload, async (m, p) => {
        const res = await server.app.inject({
          method: "POST",
          url: `/protodepot.v1.${m}`,
          headers: { "content-type": p.type, authorization: `Bearer ${token}` },
          payload: p.body,
        });
        check(res, `${m} ${p.type} ${p.body.toString("hex").slice(0, 80)}`);
      }),
      runs,
    );
  });
});
