import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import { createHotResponses, createServerWith, keepHot } from "./hot-responses.js";

describe("hot responses", () => {
  let epoch = 0;
  let clock = 1_000_000;
  let runs = 0;
  let app: FastifyInstance;
  let base = "";
  const hot = createHotResponses({
    epoch: () => epoch,
    ttlMs: 2000,
    maxBytes: 1 << 20,
    maxItemBytes: 64 << 10,
    now: () => clock,
  });

  before(async () => {
    app = Fastify({ serverFactory: createServerWith(hot, undefined) });
    app.addHook("onRequest", async (request) => {
      // The registry hook's job in the server: who asks, and until when their token counts.
      request.principal =
        request.headers.authorization === "Bearer expiring"
          ? { tokenExpiresAt: new Date(clock + 500).toISOString() }
          : {};
    });
    app.addHook("onSend", (request, reply, payload, done) => {
      hot.offer(request, reply, payload);
      done(null, payload);
    });
    app.get("/kept/:name", async (request, reply) => {
      keepHot(reply);
      runs++;
      const { name } = request.params as { name: string };
      if (name === "missing") return reply.code(404).send("no such thing\n");
      if (name === "big") return reply.type("application/octet-stream").send(Buffer.alloc(100 << 10));
      if (name === "write") epoch++; // a write lands while this request is being answered
      return reply
        .header("etag", `"${name}"`)
        .header("cache-control", "no-cache")
        .type("application/octet-stream")
        .send(Buffer.from(`bytes of ${name} for ${request.headers.authorization ?? "anyone"} #${runs}`));
    });
    app.get("/text", async (_request, reply) => {
      keepHot(reply);
      runs++;
      return reply.type("text/plain; charset=utf-8").send(`module example.com/m #${runs}\n`);
    });
    app.get("/unmarked", async () => {
      runs++;
      return `run ${runs}`;
    });
    await app.listen({ port: 0, host: "127.0.0.1" });
    const address = app.server.address();
    base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  });
  after(() => app.close());
  beforeEach(() => {
    epoch++; // every test starts with nothing kept
    runs = 0;
  });

  const get = async (path: string, headers: Record<string, string> = {}, method = "GET") => {
    const res = await fetch(base + path, { headers, method });
    return { status: res.status, headers: res.headers, body: await res.text() };
  };

  it("answers a repeat from memory with the same status, headers and bytes", async () => {
    const first = await get("/kept/a");
    const second = await get("/kept/a");
    assert.equal(runs, 1, "the handler ran once");
    assert.equal(second.status, 200);
    assert.equal(second.body, first.body);
    for (const name of ["content-type", "content-length", "etag", "cache-control"])
      assert.equal(second.headers.get(name), first.headers.get(name), name);
    assert.ok(second.headers.get("date"), "node still dates each answer");
  });

  it("answers HEAD from the kept GET, without a body", async () => {
    const first = await get("/kept/h");
    const head = await get("/kept/h", {}, "HEAD");
    assert.equal(runs, 1);
    assert.equal(head.status, 200);
    assert.equal(head.body, "");
    assert.equal(head.headers.get("content-length"), first.headers.get("content-length"));
  });

  it("keeps strings too, with their length", async () => {
    const first = await get("/text");
    const second = await get("/text");
    assert.equal(runs, 1);
    assert.equal(second.body, first.body);
    assert.equal(second.headers.get("content-length"), String(Buffer.byteLength(first.body)));
  });

  it("forgets everything at the next write (the epoch), in this process or a sibling's", async () => {
    await get("/kept/b");
    epoch++;
    const after = await get("/kept/b");
    assert.equal(runs, 2);
    assert.match(after.body, /#2$/);
  });

  it("never keeps an answer made while a write landed", async () => {
    await get("/kept/write");
    await get("/kept/write");
    assert.equal(runs, 2);
  });

  it("forgets an answer after the TTL, which bounds another node's writes", async () => {
    await get("/kept/c");
    clock += 1999;
    await get("/kept/c");
    assert.equal(runs, 1);
    clock += 1;
    await get("/kept/c");
    assert.equal(runs, 2);
  });

  it("never keeps an answer past the caller's token expiry", async () => {
    const auth = { authorization: "Bearer expiring" };
    await get("/kept/d", auth);
    clock += 499;
    await get("/kept/d", auth);
    assert.equal(runs, 1);
    clock += 1;
    await get("/kept/d", auth);
    assert.equal(runs, 2);
  });

  it("keeps one answer per credentials: another caller never gets it", async () => {
    const anyone = await get("/kept/e");
    const alice = await get("/kept/e", { authorization: "Bearer alice" });
    const bob = await get("/kept/e", { authorization: "Bearer bob" });
    assert.equal(runs, 3);
    assert.match(anyone.body, /for anyone/);
    assert.match(alice.body, /for Bearer alice/);
    assert.match(bob.body, /for Bearer bob/);
    assert.match((await get("/kept/e", { authorization: "Bearer alice" })).body, /for Bearer alice #2$/);
    assert.equal(runs, 3);
  });

  it("sends conditional and range requests to the route", async () => {
    await get("/kept/f");
    await get("/kept/f", { "if-none-match": '"f"' });
    await get("/kept/f", { range: "bytes=0-1" });
    assert.equal(runs, 3);
  });

  it("keeps only 200s of marked routes, within the item size", async () => {
    for (const path of ["/kept/missing", "/kept/big", "/unmarked"]) {
      await get(path);
      await get(path);
    }
    assert.equal(runs, 6);
  });
});
