// bench/webui: the module page of a module with 200 commits, 200 files and 20 templates (each with an npm runtime
// library, so each offers install lines): time to first byte and total bytes over a real loopback socket, anonymous
// and signed in; and server time side by side with the management API's ListCommits (50 commits as JSON) and the
// module's sources download on the same server. Server time = fastify.inject (no socket) from request to the last
// byte of the reply.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.js";
import { startServer } from "../../src/server.js";
import { createSqliteMetadataStore } from "../../src/storage/meta/sqlite/sqlite-metadata-store.js";
import { knob, median } from "../support.js";

const commits = knob("BENCH_COMMITS", 200, 60);
const templates = knob("BENCH_TEMPLATES", 20, 3);
const files = knob("BENCH_FILES", 200, 10);
const rounds = knob("BENCH_ROUNDS", 50, 2);
const token = `pd_bench-${randomBytes(12).toString("hex")}`;
const b64 = (s: string) => Buffer.from(s).toString("base64");

const dataDir = await mkdtemp(join(tmpdir(), "protodepot-bench-webui-"));
const config = loadConfig({
  env: {},
  overrides: { dataDir, adminToken: token, server: { port: 0 }, log: { level: "warn" } },
});
let server = await startServer(config);
const auth = { authorization: `Bearer ${token}` };
try {
  // One real push of a 200-file module (buf compiles it)…
  const pushed = [
    { path: "buf.yaml", content: b64("version: v1\nname: buf.build/admin/big\n") },
    { path: "README.md", content: b64("# admin/big\n\nA module of many files, for the web UI benchmark.\n") },
  ];
  for (let i = 0; pushed.length < files; i++) {
    const pkg = Math.floor(i / 20);
    pushed.push({
      path: `big/p${pkg}/v1/f${i}.proto`,
      content: b64(
        `syntax = "proto3";\npackage big.p${pkg}.v1;\n// Message ${i}.\nmessage M${i} {\n  string id = 1;\n  repeated int64 values = 2;\n  map<string, string> labels = 3;\n}\nservice S${i} { rpc Get(M${i}) returns (M${i}); }\n`,
      ),
    });
  }
  const res = await server.app.inject({
    method: "POST",
    url: "/protodepot.v1.ModuleService/Push",
    headers: { ...auth, "content-type": "application/json" },
    payload: JSON.stringify({ module: "admin/big", files: pushed }),
  });
  if (res.statusCode !== 200) throw new Error(`push failed: ${res.body}`);
  // …then, with the server stopped (its metadata cache would not see them), the other commits written straight
  // into the metadata store, sharing its blobs (a push each would only add 999 compiles of the same files to the
  // setup; the page reads the same rows either way).
  await server.close();
  const meta = await createSqliteMetadataStore({ path: join(dataDir, "metadata.sqlite") });
  const mod = await meta.getModule("admin", "big");
  if (!mod) throw new Error("module admin/big is missing");
  const [first] = await meta.listCommits(mod.id, { limit: 1 });
  if (!first) throw new Error("no commit");
  const firstFiles = await meta.listCommitFiles(first.id);
  const ids: string[] = [];
  for (let i = 2; i <= commits; i++) {
    const { commit } = await meta.insertCommit({
      owner: "admin",
      module: "big",
      id: randomBytes(16).toString("hex"),
      digest: `sha256:${randomBytes(32).toString("hex")}`,
      sourcesBlob: first.sourcesBlob,
      imageBlob: first.imageBlob,
      createdBy: "admin",
      files: firstFiles,
      deps: [],
      label: i % 100 === 0 ? `v${i / 100}` : "main",
    });
    ids.push(commit.id);
  }
  await meta.close();
  server = await startServer(config);
  const { app } = server;
  await createTemplates(app, templates);

  const measure = async (name: string, run: () => Promise<{ statusCode: number; body: string }>) => {
    for (let i = 0; i < 10; i++) await run();
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < rounds; i++) {
      const start = performance.now();
      const r = await run();
      times.push(performance.now() - start);
      if (r.statusCode !== 200) throw new Error(`${name}: ${r.statusCode} ${r.body.slice(0, 200)}`);
      bytes = r.body.length;
    }
    times.sort((a, b) => a - b);
    return { name, median: median(times), p95: times[Math.floor(times.length * 0.95)] ?? Number.NaN, bytes };
  };
  const firstByte = await overSocket(server.url, "/admin/big", {});
  const firstByteAuth = await overSocket(server.url, "/admin/big", auth);
  const page = await measure("module page (HTML)", () => app.inject({ method: "GET", url: "/admin/big" }));
  const pageAuth = await measure("module page, signed in", () =>
    app.inject({ method: "GET", url: "/admin/big", headers: auth }),
  );
  const docs = await measure("API docs page (HTML)", () =>
    app.inject({ method: "GET", url: "/admin/big/docs/main" }),
  );
  // Docs are rendered once per commit: a different commit each time measures the first render.
  let next = 0;
  const docsCold = await measure("API docs page, first render", () =>
    app.inject({ method: "GET", url: `/admin/big/docs/${ids[next++ % ids.length]}` }),
  );
  const api = await measure("API ListCommits (50, JSON)", () =>
    app.inject({
      method: "POST",
      url: "/protodepot.v1.ModuleService/ListCommits",
      headers: { "content-type": "application/json" },
      payload: JSON.stringify({ module: "admin/big", pageSize: 50 }),
    }),
  );
  const sources = await measure("sources archive (.tar.gz)", () =>
    app.inject({ method: "GET", url: "/admin/big/archive/main.tar.gz" }),
  );
  console.log(
    `module admin/big: ${commits} commits, ${files} files, ${templates} templates; ${rounds} rounds each after 10 warm-up`,
  );
  for (const [name, r] of [
    ["module page, socket", firstByte],
    ["module page, socket, signed in", firstByteAuth],
  ] as const) {
    console.log(
      `${name.padEnd(30)} TTFB median ${r.ttfb.toFixed(2).padStart(7)} ms  total median ${r.total.toFixed(2).padStart(7)} ms  ${r.bytes} bytes`,
    );
  }
  for (const r of [page, pageAuth, docs, docsCold, api, sources]) {
    console.log(
      `${r.name.padEnd(30)} median ${r.median.toFixed(2).padStart(7)} ms  p95 ${r.p95.toFixed(2).padStart(7)} ms  ${r.bytes} bytes`,
    );
  }
  console.log(`module page / API ListCommits: ${(page.median / api.median).toFixed(2)}x`);
  console.log(`module page / sources archive: ${(page.median / sources.median).toFixed(2)}x`);
  console.log(`module page median vs the 100 ms budget: ${(page.median / 100).toFixed(2)}x of budget`);
} finally {
  await server.close();
  await rm(dataDir, { recursive: true, force: true });
}

/** `count` templates over one host plugin with an npm runtime library, as a team's own templates would be. */
async function createTemplates(app: Awaited<ReturnType<typeof startServer>>["app"], count: number) {
  const call = async (method: string, body: unknown) => {
    const res = await app.inject({
      method: "POST",
      url: `/protodepot.v1.${method}`,
      headers: { ...auth, "content-type": "application/json" },
      payload: JSON.stringify(body),
    });
    if (res.statusCode !== 200) throw new Error(`${method}: ${res.body}`);
  };
  await call("PluginService/CreatePlugin", { plugin: "admin/es", visibility: "public" });
  await call("PluginService/CreatePluginVersion", {
    plugin: "admin/es",
    version: "v1.0.0",
    command: ["/bin/true"],
    runtimeLibraries: { npm: [{ package: "@bufbuild/protobuf", version: "^2.0.0" }] },
  });
  for (let i = 0; i < count; i++) {
    await call("TemplateService/CreateTemplate", {
      template: `admin/t${i}`,
      visibility: "public",
      plugins: [{ owner: "admin", name: "es", parameter: "target=ts" }],
    });
    await call("TemplateService/CreateTemplateVersion", {
      template: `admin/t${i}`,
      pluginVersions: [{ owner: "admin", name: "es", version: "v1.0.0" }],
    });
  }
}

/** Median time to the first body byte and to the last, and the body's size, of GETs over a loopback socket. */
async function overSocket(base: string, path: string, headers: Record<string, string>) {
  const once = () =>
    new Promise<{ ttfb: number; total: number; bytes: number }>((resolve, reject) => {
      const start = performance.now();
      let ttfb = Number.NaN;
      let bytes = 0;
      const req = httpRequest(new URL(path, base), { headers, agent: false }, (res) => {
        if (res.statusCode !== 200) reject(new Error(`GET ${path}: ${res.statusCode}`));
        res.on("data", (chunk: Buffer) => {
          if (bytes === 0) ttfb = performance.now() - start;
          bytes += chunk.byteLength;
        });
        res.on("end", () => resolve({ ttfb, total: performance.now() - start, bytes }));
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end();
    });
  for (let i = 0; i < 10; i++) await once();
  const runs: { ttfb: number; total: number; bytes: number }[] = [];
  for (let i = 0; i < rounds; i++) runs.push(await once());
  return {
    ttfb: median(runs.map((r) => r.ttfb)),
    total: median(runs.map((r) => r.total)),
    bytes: runs[runs.length - 1]?.bytes ?? 0,
  };
}
