import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { connect as tlsConnect } from "node:tls";
import Fastify, { type FastifyInstance } from "fastify";
import { makeSelfSignedCert } from "../../test/e2e/support/tls.js";
import {
  addressKey,
  autoMaxConnections,
  type ConnectionLimits,
  readOpenFileLimit,
} from "./connection-limits.js";
import { createHotResponses, createServerWith } from "./hot-responses.js";

test("addressKey folds IPv4-mapped addresses and counts IPv6 by its /64", () => {
  assert.equal(addressKey("127.0.0.2"), "127.0.0.2");
  assert.equal(addressKey("::ffff:10.1.2.3"), "10.1.2.3");
  assert.equal(addressKey("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
  assert.equal(addressKey("2001:db8:1:2:bbbb:cccc:dddd:eeee"), "2001:db8:1:2::/64");
  assert.equal(addressKey("2001:db8::1"), "2001:db8:0:0::/64");
  assert.equal(addressKey("::1"), "0:0:0:0::/64");
  assert.equal(addressKey(undefined), "");
});

test("auto connections leave a fifth of the open-file limit (at least 512) and stay within 16384", () => {
  assert.equal(autoMaxConnections(20_000), 16_000);
  assert.equal(autoMaxConnections(1024), 512);
  assert.equal(autoMaxConnections(undefined), 512);
  assert.equal(autoMaxConnections(1_048_576), 16_384);
  assert.equal(autoMaxConnections(100), 64);
});

test("readOpenFileLimit reads the soft limit from /proc/self/limits", async () => {
  const dir = await mkdtemp(join(tmpdir(), "limits-"));
  try {
    const file = join(dir, "limits");
    await writeFile(
      file,
      "Limit                     Soft Limit           Hard Limit           Units\n" +
        "Max open files            20000                40000                files\n",
    );
    assert.equal(readOpenFileLimit(file), 20_000);
    await writeFile(file, "Max open files            unlimited            unlimited            files\n");
    assert.equal(readOpenFileLimit(file), undefined);
    assert.equal(readOpenFileLimit(join(dir, "missing")), undefined);
    if ((await readFile("/proc/self/limits", "utf8").catch(() => "")).includes("Max open files"))
      assert.ok((readOpenFileLimit() ?? 0) > 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

const limits: ConnectionLimits = {
  maxConnections: 6,
  maxConnectionsPerAddress: 3,
  headersTimeoutMs: 600,
  requestTimeoutMs: 0,
  idleTimeoutMs: 400,
  keepAliveTimeoutMs: 5000,
};

const noHot = createHotResponses({ epoch: () => 0, ttlMs: 0, maxBytes: 0, maxItemBytes: 0 });

async function serve(tls?: { cert: Buffer; key: Buffer }, overrides: Partial<ConnectionLimits> = {}) {
  const refused: string[] = [];
  const app = Fastify({
    serverFactory: createServerWith(noHot, tls, {
      limits: { ...limits, ...overrides },
      onRefused: (r) => refused.push(r),
    }),
  });
  app.get("/", async () => "hello");
  // The server works for longer than the idle timeout after the whole body arrived: not the client's fault.
  app.post("/slow", async (req) => {
    await sleep(limits.idleTimeoutMs * 3);
    return `got ${String(req.body).length}`;
  });
  // A download that keeps moving for longer than the idle timeout.
  app.get("/drip", async (_req, reply) => {
    async function* drip() {
      for (let i = 0; i < 8; i++) {
        yield Buffer.from(`${i}\n`);
        await sleep(limits.idleTimeoutMs / 4);
      }
    }
    return reply.send(Readable.from(drip()));
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return { app, port, refused };
}

/** Resolves when the server closes `socket`; what it sent before is returned. */
function closed(socket: Socket): Promise<string> {
  let got = "";
  socket.on("data", (d: Buffer) => (got += d.toString()));
  socket.on("error", () => {});
  return new Promise((resolve) => socket.once("close", () => resolve(got)));
}

function get(port: number, path: string, localAddress: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, localAddress, agent: false }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function openIdle(port: number, localAddress: string, n: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let i = 0; i < n; i++) {
    const s = connect({ host: "127.0.0.1", port, localAddress });
    await once(s, "connect");
    sockets.push(s);
  }
  return sockets;
}

describe("connection limits on a real server", { timeout: 30_000 }, () => {
  let server: Awaited<ReturnType<typeof serve>>;
  const apps: FastifyInstance[] = [];
  after(async () => {
    for (const app of apps) await app.close();
  });

  test("over its per-address limit a client's new connection is closed at once; others are answered", async () => {
    // Held connections must stay open however slowly a loaded machine runs this: only the limits may close one.
    const patient = await serve(undefined, { headersTimeoutMs: 60_000, idleTimeoutMs: 60_000 });
    apps.push(patient.app);
    server = await serve();
    apps.push(server.app);
    const held = await openIdle(patient.port, "127.0.0.1", limits.maxConnectionsPerAddress);
    // The server may not have counted the last one in yet when connect resolves: give it a round trip.
    await get(patient.port, "/", "127.0.0.3");
    const extra = connect({ host: "127.0.0.1", port: patient.port, localAddress: "127.0.0.1" });
    extra.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.equal(await closed(extra), "", "refused before any answer");
    assert.deepEqual(patient.refused, ["address"]);
    assert.deepEqual(await get(patient.port, "/", "127.0.0.2"), { status: 200, body: "hello" });
    // Past the total: three from .1, and three more held from .4 and .5.
    const more = [
      ...(await openIdle(patient.port, "127.0.0.4", 2)),
      ...(await openIdle(patient.port, "127.0.0.5", 1)),
    ];
    await sleep(50);
    const over = connect({ host: "127.0.0.1", port: patient.port, localAddress: "127.0.0.6" });
    assert.equal(await closed(over), "");
    assert.deepEqual(patient.refused, ["address", "total"]);
    await Promise.all(
      [...held, ...more].map((s) => {
        s.destroy();
        return once(s, "close");
      }),
    );
    // The server counts them out on its side of the close: wait until a new address is admitted again.
    while ((await get(patient.port, "/", "127.0.0.11").catch(() => undefined))?.status !== 200)
      await sleep(20);
  });

  test("idle connections, trickled headers and stalled bodies are closed", async () => {
    const refusedBefore = server.refused.length;
    const [idle] = await openIdle(server.port, "127.0.0.7", 1);
    const idleClosed = closed(idle as Socket);
    const trickle = connect({ host: "127.0.0.1", port: server.port, localAddress: "127.0.0.7" });
    await once(trickle, "connect");
    const body = connect({ host: "127.0.0.1", port: server.port, localAddress: "127.0.0.7" });
    await once(body, "connect");
    body.write("POST /slow HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nx");
    const results = Promise.all([idleClosed, closed(trickle), closed(body)]);
    // A header byte more often than the idle timeout: only the headers timeout can end it.
    let open = true;
    void results.then(() => (open = false));
    const request =
      "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    for (let i = 0; open && i < request.length; i++) {
      if (!trickle.destroyed) trickle.write(request[i] as string);
      await sleep(limits.idleTimeoutMs / 4);
    }
    const [idleGot, trickleGot, bodyGot] = await results;
    assert.equal(idleGot, "");
    assert.doesNotMatch(trickleGot, /200 OK/);
    assert.doesNotMatch(bodyGot, /200 OK/);
    assert.equal(server.refused.length, refusedBefore, "admitted, then closed by the timeouts");
  });

  test("a server working longer than the idle timeout, and a download that keeps moving, still answer", async () => {
    const slow = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        { host: "127.0.0.1", port: server.port, path: "/slow", method: "POST", agent: false },
        (res) => {
          let text = "";
          res.on("data", (d: Buffer) => (text += d.toString()));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.setHeader("content-type", "text/plain");
      req.on("error", reject);
      req.end("abc");
    });
    assert.deepEqual(slow, { status: 200, body: "got 3" });
    assert.deepEqual(await get(server.port, "/drip", "127.0.0.8"), {
      status: 200,
      body: "0\n1\n2\n3\n4\n5\n6\n7\n",
    });
  });

  test("https: the limit applies to TCP connections before any handshake", async () => {
    const dir = await mkdtemp(join(tmpdir(), "limits-tls-"));
    try {
      const cert = await makeSelfSignedCert(dir);
      const tls = { cert: await readFile(cert.certFile), key: await readFile(cert.keyFile) };
      const secure = await serve(tls);
      apps.push(secure.app);
      const held = await openIdle(secure.port, "127.0.0.9", limits.maxConnectionsPerAddress);
      await sleep(50);
      const tlsFrom = (localAddress: string) =>
        tlsConnect({
          socket: connect({ host: "127.0.0.1", port: secure.port, localAddress }),
          host: "127.0.0.1",
          ca: tls.cert,
        });
      const extra = tlsFrom("127.0.0.9");
      const refused = await new Promise<boolean>((resolve) => {
        extra.once("secureConnect", () => resolve(false));
        extra.once("error", () => resolve(true));
        extra.once("close", () => resolve(true));
      });
      assert.ok(refused, "no handshake over the per-address limit");
      const ok = tlsFrom("127.0.0.10");
      await once(ok, "secureConnect");
      ok.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      assert.match(await closed(ok), /200 OK[\s\S]*hello$/);
      // An idle TLS connection that never starts its handshake is closed too (handshake timeout).
      assert.equal(await closed(held[0] as Socket), "");
      for (const s of held) s.destroy();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
