import assert from "node:assert/strict";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { createH2cServer, type H2cRefusal, type H2cServer } from "./h2c.js";

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
