// Webhooks end to end (docs/webhooks.md): a receiver on loopback checks every signature with code of its own, sees
// each event once (also with two nodes on one PostgreSQL), gets retries after answering 500, and a receiver that
// hangs does not hold up a push. By default a loopback target is refused. Orders, counts and states only.
import assert from "node:assert/strict";
import { createHmac, timingSafeEqual } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { openRemote } from "../../src/cli/client.js";
import { ModuleService } from "../../src/gen/protodepot/v1/module_pb.js";
import { createTestDatabase, pgVariable, skipWithout } from "../../src/storage/testing/services.js";
import { cliOk } from "./support/cli.js";
import { moduleFiles } from "./support/modules.js";
import { adminToken, callApi, makeDataDir, startTestServer, type TestServer } from "./support/server.js";

interface Received {
  path: string;
  eventId: string;
  deliveryId: string;
  kind: string;
  body: { id: string; kind: string; owner?: string; target: string; data: Record<string, unknown> };
  signed: boolean;
  /** The Protodepot-Signature header and the raw body, to check against other secrets. */
  signature: string;
  raw: string;
}

/**
 * The receiver's own check of `Protodepot-Signature: t=…,v1=…[,v1=…]` (HMAC-SHA256 over "t.body"), as
 * docs/webhooks.md tells: any v1 may match (after a rotation, the old secret's comes second).
 */
function verify(secret: string, header: string | undefined, body: string): boolean {
  const fields = (header ?? "").split(",").map((kv) => kv.split("=", 2));
  const t = Number(fields.find(([k]) => k === "t")?.[1]);
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > 300) return false;
  const expected = createHmac("sha256", secret).update(`${t}.${body}`).digest();
  return fields.some(([k, v]) => {
    const given = Buffer.from(k === "v1" ? (v ?? "") : "", "hex");
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

/**
 * A loopback receiver: `/ok/…` answers 204, `/flaky/…` 500 to the first two attempts of each delivery then 200,
 * `/hang/…` holds every request until `release()`.
 */
class Receiver {
  readonly received: Received[] = [];
  readonly secrets = new Map<string, string>();
  private readonly held: ServerResponse[] = [];
  private readonly waiters: (() => void)[] = [];
  private readonly failures = new Map<string, number>();
  private server: Server | undefined;
  url = "";

  async start(): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const path = req.url ?? "";
    const header = (name: string) => String(req.headers[name] ?? "");
    this.received.push({
      path,
      eventId: header("protodepot-event-id"),
      deliveryId: header("protodepot-delivery"),
      kind: header("protodepot-event"),
      body: JSON.parse(text) as Received["body"],
      signed: verify(this.secrets.get(path) ?? "", header("protodepot-signature") || undefined, text),
      signature: header("protodepot-signature"),
      raw: text,
    });
    for (const wake of this.waiters.splice(0)) wake();
    if (path.startsWith("/hang/")) {
      this.held.push(res);
      return;
    }
    if (path.startsWith("/flaky/")) {
      const n = (this.failures.get(header("protodepot-delivery")) ?? 0) + 1;
      this.failures.set(header("protodepot-delivery"), n);
      res.writeHead(n <= 2 ? 500 : 200).end(n <= 2 ? "not yet" : "ok");
      return;
    }
    res.writeHead(204).end();
  }

  /** Resolves once `pred` holds over what was received. */
  async until(pred: (r: Received[]) => boolean): Promise<void> {
    while (!pred(this.received)) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  get holding(): number {
    return this.held.filter((r) => !r.writableEnded).length;
  }

  release(): void {
    for (const res of this.held.splice(0)) if (!res.writableEnded) res.writeHead(200).end();
  }

  async stop(): Promise<void> {
    this.release();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

async function api(url: string, method: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await callApi(url, method, body, adminToken);
  const text = await res.text();
  assert.equal(res.status, 200, `${method}: ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

async function subscribe(
  server: TestServer,
  receiver: Receiver,
  path: string,
  events: string[],
): Promise<string> {
  const created = (await api(server.url, "WebhookService/CreateWebhook", {
    owner: "demo",
    url: `${receiver.url}${path}`,
    events,
  })) as { webhook: { id: string }; secret: string };
  receiver.secrets.set(path, created.secret);
  return created.webhook.id;
}

interface Delivery {
  id: string;
  eventId: string;
  state: string;
  attempts?: number;
  lastStatus?: number;
}

async function deliveries(server: TestServer, webhookId: string): Promise<Delivery[]> {
  return ((await api(server.url, "WebhookService/ListWebhookDeliveries", { webhookId })).deliveries ??
    []) as Delivery[];
}

/** Polls the API until every delivery of the subscription has ended (no node will send it again). */
async function settled(server: TestServer, webhookId: string, count: number): Promise<Delivery[]> {
  for (;;) {
    const list = await deliveries(server, webhookId);
    if (list.length >= count && list.every((d) => d.state !== "pending")) return list;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const pushEnv = (server: TestServer) => ({ remote: server.url, token: adminToken });

async function push(server: TestServer, module: string, message: string): Promise<void> {
  const client = (await openRemote(pushEnv(server), {})).client(ModuleService);
  await client.push({
    files: moduleFiles(module, {
      [`${module.split("/")[1]}/v1/m.proto`]: `syntax = "proto3";\npackage ${module.split("/")[1]}.v1;\nmessage ${message} {}\n`,
    }),
  });
}

const fastRetries = {
  PROTODEPOT_WEBHOOKS_ALLOW_PRIVATE_TARGETS: "true",
  PROTODEPOT_WEBHOOKS_POLL_MS: "50",
  PROTODEPOT_WEBHOOKS_RETRY_BASE_MS: "20",
  // Far longer than the test: a hanging receiver holds its request until the test releases it.
  PROTODEPOT_WEBHOOKS_TIMEOUT_MS: "120000",
};

describe("webhooks on one node", () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;
  const receiver = new Receiver();

  before(async () => {
    await receiver.start();
    data = await makeDataDir();
    server = await startTestServer({ dataDir: data.dir, env: fastRetries, orgs: ["demo"] });
  });
  after(async () => {
    await receiver.stop();
    await server?.stop();
    await data?.remove();
  });

  it("delivers each push once, signed, with the commit in the body", async () => {
    const id = await subscribe(server, receiver, "/ok/pushes", ["commit.pushed"]);
    await push(server, "demo/alpha", "A");
    await push(server, "demo/beta", "B");
    const done = await settled(server, id, 2);
    const got = receiver.received.filter((r) => r.path === "/ok/pushes");
    assert.deepEqual(
      got.map((r) => r.body.target),
      ["demo/alpha", "demo/beta"],
    );
    assert.ok(got.every((r) => r.signed && r.kind === "commit.pushed" && r.body.owner === "demo"));
    assert.equal(new Set(got.map((r) => r.eventId)).size, 2);
    assert.equal(got[0]?.body.data.seq, 1);
    assert.ok(done.every((d) => d.state === "succeeded" && d.attempts === 1 && d.lastStatus === 204));
  });

  it("retries a delivery answered with 500 until it succeeds, and records every attempt", async () => {
    const id = await subscribe(server, receiver, "/flaky/pushes", ["commit.pushed"]);
    await push(server, "demo/gamma", "G");
    const [done] = await settled(server, id, 1);
    const got = receiver.received.filter((r) => r.path === "/flaky/pushes");
    assert.equal(got.length, 3);
    assert.equal(new Set(got.map((r) => r.deliveryId)).size, 1, "one delivery, attempted three times");
    assert.ok(got.every((r) => r.signed));
    assert.equal(done?.state, "succeeded");
    assert.equal(done?.attempts, 3);
    assert.equal(done?.lastStatus, 200);
  });

  it("answers a push while a hanging receiver still holds the previous event", async () => {
    await subscribe(server, receiver, "/hang/pushes", ["commit.pushed"]);
    const order: string[] = [];
    await push(server, "demo/delta", "D1");
    await receiver.until((r) => r.some((x) => x.path === "/hang/pushes"));
    order.push("receiver holds delivery 1");
    await push(server, "demo/delta", "D2");
    order.push(receiver.holding > 0 ? "push 2 answered while held" : "push 2 answered after release");
    receiver.release();
    order.push("released");
    assert.deepEqual(order, ["receiver holds delivery 1", "push 2 answered while held", "released"]);
  });

  it("lists, redelivers and deletes through the CLI", async () => {
    const work = await mkdtemp(join(tmpdir(), "protodepot-webhooks-"));
    const env = { PROTODEPOT_REMOTE: server.url, PROTODEPOT_TOKEN: adminToken, XDG_CONFIG_HOME: work };
    try {
      const created = await cliOk(
        [
          "webhook",
          "create",
          "--owner",
          "demo",
          "--url",
          `${receiver.url}/ok/cli`,
          "--events",
          "label.moved",
        ],
        env,
      );
      const secret = /secret[^:]*: (\S+)/.exec(created.stdout)?.[1] ?? "";
      const id = /created webhook ([0-9a-f]+)/.exec(created.stdout)?.[1] ?? "";
      receiver.secrets.set("/ok/cli", secret);
      assert.match((await cliOk(["webhook", "list", "--owner", "demo"], env)).stdout, new RegExp(id));
      await cliOk(["label", "create", "demo/alpha", "stable", "main"], env);
      const [first] = await settled(server, id, 1);
      assert.ok(first);
      const listed = (await cliOk(["webhook", "deliveries", id, "--json"], env)).stdout;
      assert.match(listed, /"state":"succeeded"/);
      await cliOk(["webhook", "redeliver", first.id], env);
      await settled(server, id, 2);
      const got = receiver.received.filter((r) => r.path === "/ok/cli");
      assert.equal(got.length, 2);
      assert.equal(got[0]?.eventId, got[1]?.eventId, "a redelivery sends the same event");
      assert.notEqual(got[0]?.deliveryId, got[1]?.deliveryId);
      assert.ok(got.every((r) => r.signed && r.kind === "label.moved"));
      await cliOk(["webhook", "delete", id], env);
      assert.doesNotMatch((await cliOk(["webhook", "list", "--owner", "demo"], env)).stdout, new RegExp(id));
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  it("rotates the secret through the CLI: the old one verifies during the grace period, not after it", async () => {
    const work = await mkdtemp(join(tmpdir(), "protodepot-webhooks-"));
    const env = { PROTODEPOT_REMOTE: server.url, PROTODEPOT_TOKEN: adminToken, XDG_CONFIG_HOME: work };
    const path = "/ok/rotate";
    const verifies = (r: Received | undefined, secret: string) => verify(secret, r?.signature, r?.raw ?? "");
    const rotate = async (...args: string[]) => {
      const { stdout } = await cliOk(["webhook", "rotate-secret", id, ...args], env);
      const secret = /secret[^:]*: (\S+)/.exec(stdout)?.[1] ?? "";
      receiver.secrets.set(path, secret);
      return { secret, stdout };
    };
    const id = await subscribe(server, receiver, path, ["commit.pushed"]);
    const first = receiver.secrets.get(path) ?? "";
    try {
      // Right after a rotation with the default grace: the new secret verifies, and so does the old one.
      const second = await rotate();
      assert.match(second.secret, /^whsec_[0-9a-f]{48}$/);
      assert.match(second.stdout, /the old secret signs too \(a second v1\) until \S+/);
      const table = (await cliOk(["webhook", "list", "--owner", "demo"], env)).stdout;
      assert.match(table, new RegExp(`${id} .* \\d{4}-\\d{2}-\\d{2}T\\S+Z`), "the table says until when");
      await push(server, "demo/epsilon", "E1");
      await settled(server, id, 1);
      const during = receiver.received.filter((r) => r.path === path);
      assert.equal(during.length, 1);
      assert.ok(verifies(during[0], second.secret), "the new secret verifies");
      assert.ok(verifies(during[0], first), "the old secret verifies during the grace period");
      // A short grace, waited out (its end as the server reports it): only the newest secret verifies.
      const third = await rotate("--grace", "1s");
      const listed = (await cliOk(["webhook", "list", "--owner", "demo", "--json"], env)).stdout
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { id: string; previousSecretExpireTime: string });
      const graceEnds = Date.parse(listed.find((w) => w.id === id)?.previousSecretExpireTime ?? "");
      assert.ok(Number.isFinite(graceEnds));
      while (Date.now() <= graceEnds + 100) await new Promise((r) => setTimeout(r, 100));
      await push(server, "demo/epsilon", "E2");
      await settled(server, id, 2);
      const ended = receiver.received.filter((r) => r.path === path)[1];
      assert.ok(verifies(ended, third.secret), "the newest secret verifies");
      assert.equal(
        verifies(ended, second.secret),
        false,
        "the old secret no longer verifies after the grace",
      );
      assert.equal(verifies(ended, first), false);
      assert.equal(ended?.signature.split(",").length, 2, "t and one v1");
      const audit = (
        await api(server.url, "AuditService/ListAuditEvents", { action: "webhook.secret.rotate" })
      ).events as { target: string; owner: string }[];
      assert.deepEqual(
        audit.map((e) => [e.target, e.owner]),
        [
          [`webhook ${id}`, "demo"],
          [`webhook ${id}`, "demo"],
        ],
      );
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});

describe("webhooks by default", () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;

  before(async () => {
    data = await makeDataDir();
    server = await startTestServer({ dataDir: data.dir, orgs: ["demo"] });
  });
  after(async () => {
    await server?.stop();
    await data?.remove();
  });

  it("refuses a loopback or private target with a message that says how to allow it", async () => {
    for (const url of [
      "http://127.0.0.1/hook",
      "http://[::1]:8080/",
      "http://10.1.2.3/",
      "http://169.254.169.254/",
    ]) {
      const res = await callApi(
        server.url,
        "WebhookService/CreateWebhook",
        { owner: "demo", url },
        adminToken,
      );
      const text = await res.text();
      assert.equal(res.status, 400, `${url}: ${text}`);
      assert.match(text, /webhooks\.allowPrivateTargets/);
    }
    const loopback = await callApi(
      server.url,
      "WebhookService/CreateWebhook",
      { owner: "demo", url: "http://127.0.0.1/hook" },
      adminToken,
    );
    assert.match(await loopback.text(), /loopback address/);
  });
});

describe("webhooks on two nodes sharing postgres", { skip: skipWithout(pgVariable) }, () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let work: string;
  const dirs: Awaited<ReturnType<typeof makeDataDir>>[] = [];
  const nodes: TestServer[] = [];
  const receiver = new Receiver();

  before(async () => {
    await receiver.start();
    db = await createTestDatabase();
    work = await mkdtemp(join(tmpdir(), "protodepot-webhooks-pg-"));
    const env = {
      ...fastRetries,
      PROTODEPOT_STORAGE_META_DRIVER: "postgres",
      PROTODEPOT_STORAGE_META_POSTGRES_URL: db.url,
      PROTODEPOT_STORAGE_BLOB_FS_ROOT: join(work, "blobs"),
      PROTODEPOT_STORAGE_BLOB_FS_FSYNC: "false",
    };
    for (const host of ["127.0.0.1", "127.0.0.2"]) {
      const dir = await makeDataDir("protodepot-node-");
      dirs.push(dir);
      nodes.push(await startTestServer({ dataDir: dir.dir, env, args: ["--host", host], orgs: ["demo"] }));
    }
  });
  after(async () => {
    await receiver.stop();
    for (const n of nodes) await n.stop();
    for (const d of dirs) await d.remove();
    await rm(work, { recursive: true, force: true });
    await db?.drop();
  });

  it("delivers each event once although both nodes dispatch", async () => {
    const [one, two] = nodes as [TestServer, TestServer];
    const id = await subscribe(one, receiver, "/ok/cluster", ["commit.pushed"]);
    const pushes = 8;
    for (let i = 0; i < pushes; i++) await push(i % 2 === 0 ? one : two, `demo/m${i}`, `M${i}`);
    const done = await settled(two, id, pushes);
    assert.equal(done.length, pushes);
    assert.ok(done.every((d) => d.state === "succeeded" && d.attempts === 1));
    const got = receiver.received.filter((r) => r.path === "/ok/cluster");
    assert.equal(got.length, pushes, "no event sent twice");
    assert.equal(new Set(got.map((r) => r.eventId)).size, pushes);
    assert.ok(got.every((r) => r.signed));
  });
});
