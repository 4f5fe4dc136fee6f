import assert from "node:assert/strict";
import { connect } from "node:net";
import { test } from "node:test";
import Fastify from "fastify";
import { closeAfterUnreadBodies } from "./unread-body.js";

/** Sends one request with a body of `bodyBytes` (only `sendBytes` of it written), returns what came back and whether the server ended the connection. */
function rawRequest(
  port: number,
  bodyBytes: number,
  sendBytes: number,
): Promise<{ text: string; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let text = "";
    let ended = false;
    socket.on("data", (d) => (text += d.toString()));
    socket.on("end", () => (ended = true));
    socket.on("error", reject);
    socket.on("close", () => resolve({ text, ended }));
    socket.write(`POST /upload HTTP/1.1\r\nhost: x\r\ncontent-length: ${bodyBytes}\r\n\r\n`);
    socket.write(Buffer.alloc(sendBytes));
    // The client would go on sending; here it waits for the server's decision.
    setTimeout(() => socket.destroy(), 5_000).unref();
  });
}

test("a response sent before the request body was read says Connection: close and ends the connection", async () => {
  const app = Fastify();
  closeAfterUnreadBodies(app);
  // Bodies are left to the handlers, as the OCI registry does.
  app.addContentTypeParser("*", (_req, payload, done) => done(null, payload));
  // Refuses at once, reading nothing, as a handler over a quota does.
  app.post("/upload", async (_req, reply) => reply.code(413).send({ error: "too large" }));
  app.post("/read", async (req) => {
    let got = "";
    for await (const chunk of req.body as AsyncIterable<Buffer>) got += String(chunk);
    return { got };
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  try {
    const port = (app.server.address() as { port: number }).port;
    const refused = await rawRequest(port, 64 << 20, 1 << 20);
    assert.match(refused.text, /^HTTP\/1\.1 413/);
    assert.match(refused.text, /\r\nconnection: close\r\n/i);
    assert.ok(refused.ended, "the server ended the connection");

    // A client that goes on writing its whole body gets the answer, never a reset (the body is read to its end
    // before the connection closes), however often it tries.
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/upload`, {
        method: "POST",
        body: new Uint8Array(9 << 20),
      });
      assert.equal(res.status, 413);
      assert.deepEqual(await res.json(), { error: "too large" });
    }

    // A body read in full keeps the connection reusable.
    const kept = await fetch(`http://127.0.0.1:${port}/read`, { method: "POST", body: "x" });
    assert.deepEqual(await kept.json(), { got: "x" });
    assert.equal(kept.headers.get("connection"), "keep-alive");
  } finally {
    await app.close();
  }
});
