// Nodes that start at the same instant on one database (a Kubernetes rollout): migrations, the admin, built-in
// plugins and templates, and the demo are set up once, and every node serves.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createTestDatabase, pgVariable, skipWithout } from "../../src/storage/testing/services.js";
import { adminToken, callApi, makeDataDir, startTestServer, type TestServer } from "./support/server.js";

const nodes = 2;

/** Starts `nodes` servers at once over `env`, checks that each serves and that setup happened once, stops them. */
async function startTogether(env: Record<string, string>, work: string): Promise<void> {
  const dirs = await Promise.all(Array.from({ length: nodes }, () => makeDataDir("protodepot-start-")));
  const started = await Promise.allSettled(
    dirs.map((d) =>
      startTestServer({
        dataDir: d.dir,
        env: {
          ...env,
          PROTODEPOT_DEMO: "true",
          PROTODEPOT_BUILTIN_PLUGINS: "true",
          // One blob store for all, as a cluster has: the demo commit one node stores, the others serve.
          PROTODEPOT_STORAGE_BLOB_FS_ROOT: join(work, "blobs"),
          PROTODEPOT_STORAGE_BLOB_FS_FSYNC: "false",
        },
      }),
    ),
  );
  const servers = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  try {
    const failed = started.flatMap((s) => (s.status === "rejected" ? [String(s.reason)] : []));
    assert.deepEqual(failed, [], "every node starts");
    for (const server of servers) await checkServes(server);
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await Promise.all(dirs.map((d) => d.remove()));
  }
}

async function api(server: TestServer, method: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await callApi(server.url, method, body, adminToken);
  const text = await res.text();
  assert.equal(res.status, 200, `${method} on ${server.url}: ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

async function checkServes(server: TestServer): Promise<void> {
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  // Each built-in template has exactly one version: no node added a duplicate of another's.
  const listed = await api(server, "TemplateService/ListTemplates", { owner: "protodepot" });
  const names = (listed.templates as { name: string }[]).map((t) => t.name);
  assert.ok(names.includes("es"), names.join(", "));
  for (const name of names) {
    const versions = await api(server, "TemplateService/ListTemplateVersions", {
      template: `protodepot/${name}`,
    });
    assert.equal(((versions.templateVersions ?? []) as unknown[]).length, 1, `protodepot/${name} versions`);
  }
  // The demo was pushed once, and its sources are served by every node.
  for (const module of ["demo/money", "demo/payments"]) {
    const commits = await api(server, "ModuleService/ListCommits", { module });
    assert.equal(((commits.commits ?? []) as unknown[]).length, 1, `${module} commits`);
  }
  const sources = await fetch(`${server.url}/demo/payments/archive/main.tar.gz`);
  assert.equal(sources.status, 200);
  await sources.arrayBuffer();
}

describe("nodes started at the same instant on one PostgreSQL", { skip: skipWithout(pgVariable) }, () => {
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), "protodepot-start-pg-"));
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it("all serve, five times in a row, each time on a fresh database", async () => {
    for (let round = 1; round <= 5; round++) {
      const db = await createTestDatabase();
      try {
        await startTogether(
          { PROTODEPOT_STORAGE_META_DRIVER: "postgres", PROTODEPOT_STORAGE_META_POSTGRES_URL: db.url },
          join(work, `round-${round}`),
        );
      } finally {
        await db.drop();
      }
    }
  });
});

describe("processes started at the same instant on one SQLite file", () => {
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), "protodepot-start-sqlite-"));
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it("all serve", async () => {
    await startTogether({ PROTODEPOT_STORAGE_META_SQLITE_PATH: join(work, "shared.sqlite") }, work);
  });
});
