import assert from "node:assert/strict";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { Code, RegistryError } from "../core/errors.js";
import type { Principal } from "../services/auth.js";
import { gateConnections } from "./connection-limits.js";
import { createH2cServer, type H2cRefusal, type H2cServer } from "./h2c.js";
import { createH2cRateCheck, createRateLimiter } from "./rate-limits.js";

/** One request over a fresh h2c session: status, headers (trailers merged in) and body. */
function request(port: number, headers: http2.OutgoingHttpHeaders, body = "") {
  return new Promise<{ headers: http2.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on("error", reject);
    const stream = session.request({ ":method": "POST", ...headers });
    const got: http2.IncomingHttpHeaders = {};
    let text = "";
    stream.on("response", (h) => Object.assign(got, h));
    stream.on("trailers", (h) => Object.assign(got, h));
    stream.on("data", (d: Buffer) => (text += d.toString()));
    stream.on("end", () => {
      session.close();
      resolve({ headers: got, body: text });
    });
    stream.on("error", reject);
    stream.end(body);
  });
}

describe("the h2c listener", () => {
  let h2c: H2cServer;
  let port: number;
  const handled: string[] = [];

  before(async () => {
    h2c = createH2cServer({
      handler(req, res) {
        handled.push(req.url);
        res.writeHead(200, { "content-type": "text/plain" });
        res.end("handled");
      },
      async refuse(req): Promise<H2cRefusal | undefined> {
        if (req.headers.authorization === "Bearer wrong") {
          return { status: 401, code: "unauthenticated", message: "unknown token: log in again" };
        }
        if (req.headers.authorization === "Bearer broken") throw new Error("database down");
        return undefined;
      },
      idleTimeoutMs: 0,
      onError: () => {},
    });
    await new Promise<void>((resolve) => h2c.server.listen(0, "127.0.0.1", resolve));
    port = (h2c.server.address() as AddressInfo).port;
  });
  after(() => h2c.close());

  it("hands a request the checks let through to the handler", async () => {
    const res = await request(port, { ":path": "/pkg.Service/Method" });
    assert.equal(res.headers[":status"], 200);
    assert.equal(res.body, "handled");
    assert.deepEqual(handled, ["/pkg.Service/Method"]);
  });

  it("refuses a gRPC call with a trailers-only gRPC status, never reaching the handler", async () => {
    handled.length = 0;
    const res = await request(
      port,
      { ":path": "/pkg.Service/Method", "content-type": "application/grpc", authorization: "Bearer wrong" },
      "x".repeat(1000),
    );
    assert.equal(res.headers[":status"], 200);
    assert.equal(res.headers["grpc-status"], "16");
    assert.equal(decodeURIComponent(String(res.headers["grpc-message"])), "unknown token: log in again");
    assert.deepEqual(handled, []);
  });

  it("refuses a Connect call with its HTTP status and a JSON error; a failing check is an internal error", async () => {
    const refused = await request(port, {
      ":path": "/pkg.Service/Method",
      "content-type": "application/json",
      authorization: "Bearer wrong",
    });
    assert.equal(refused.headers[":status"], 401);
    assert.deepEqual(JSON.parse(refused.body), {
      code: "unauthenticated",
      message: "unknown token: log in again",
    });
    const broken = await request(port, { ":path": "/x", authorization: "Bearer broken" });
    assert.equal(broken.headers[":status"], 500);
    assert.equal((JSON.parse(broken.body) as { code: string }).code, "internal");
    assert.deepEqual(handled, []);
  });
});

describe("rate limits on the h2c listener", () => {
  it("counts each caller like the main port: past its limit a gRPC resource_exhausted or a Connect 429", async () => {
    const limiter = createRateLimiter({ windowMs: 60_000, now: () => 0 });
    const check = createH2cRateCheck(
      { windowMs: 60_000, requests: { anonymous: 2, user: 1, bot: 0, admin: 0 }, limiter },
      async (req): Promise<Principal> => {
        if (!req.headers.authorization) return {};
        if (req.headers.authorization === "Bearer good")
          return { user: { id: "u", name: "ann", isAdmin: false, createdAt: "" }, tokenId: "t-ann" };
        throw new RegistryError(Code.Unauthenticated, "unknown token");
      },
    );
    assert.ok(check);
    let handled = 0;
    const h2c = createH2cServer({
      handler(_req, res) {
        handled++;
        res.end("handled");
      },
      refuse: check,
      idleTimeoutMs: 0,
      onError: () => {},
    });
    await new Promise<void>((resolve) => h2c.server.listen(0, "127.0.0.1", resolve));
    const port = (h2c.server.address() as AddressInfo).port;
    try {
      const grpc = { ":path": "/pkg.Service/Method", "content-type": "application/grpc" };
      const anonymous = [];
      for (let i = 0; i < 3; i++) anonymous.push(await request(port, grpc));
      assert.deepEqual(
        anonymous.map((r) => r.headers["grpc-status"]),
        [undefined, undefined, "8"],
      );
      assert.match(
        decodeURIComponent(String(anonymous[2]?.headers["grpc-message"])),
        /rateLimits\.anonymous/,
      );
      assert.equal(anonymous[2]?.headers["retry-after"], "60");
      // A token has its own count; a wrong one counts against the address, which is spent.
      const connect = { ":path": "/pkg.Service/Method", "content-type": "application/json" };
      const ann = [
        await request(port, { ...connect, authorization: "Bearer good" }),
        await request(port, { ...connect, authorization: "Bearer good" }),
        await request(port, { ...connect, authorization: "Bearer wrong" }),
      ];
      assert.deepEqual(
        ann.map((r) => r.headers[":status"]),
        [200, 429, 429],
      );
      assert.match(JSON.parse(ann[1]?.body ?? "{}").message, /rateLimits\.user/);
      assert.equal(handled, 3);
    } finally {
      await h2c.close();
    }
  });
});

describe("connection limits on the h2c listener", () => {
  it("closes a second session from an address holding its one allowed connection; the first keeps working", async () => {
    const h2c = createH2cServer({
      handler(_req, res) {
        res.end("handled");
      },
      refuse: async () => undefined,
      idleTimeoutMs: 0,
      onError: () => {},
    });
    const refused: string[] = [];
    gateConnections(h2c.server, { maxConnections: 0, maxConnectionsPerAddress: 1 }, (r) => refused.push(r));
    await new Promise<void>((resolve) => h2c.server.listen(0, "127.0.0.1", resolve));
    const port = (h2c.server.address() as AddressInfo).port;
    const first = http2.connect(`http://127.0.0.1:${port}`);
    try {
      const ask = (session: http2.ClientHttp2Session) =>
        new Promise<string>((resolve, reject) => {
          const stream = session.request({ ":method": "POST", ":path": "/x" });
          let body = "";
          stream.on("data", (d: Buffer) => (body += d.toString()));
          stream.on("end", () => resolve(body));
          stream.on("error", reject);
          session.on("error", reject);
          stream.end();
        });
      assert.equal(await ask(first), "handled");
      const second = http2.connect(`http://127.0.0.1:${port}`);
      // The socket is closed before HTTP/2 sees it: the stream ends (or fails) without an answer.
      assert.equal(await ask(second).catch(() => ""), "");
      second.destroy();
      assert.deepEqual(refused, ["address"]);
      assert.equal(await ask(first), "handled");
    } finally {
      first.close();
      await h2c.close();
    }
  });
});
