// Rate limits: counts per window with a fake clock, and the hook on a real Fastify app (inject, no sockets).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import Fastify from "fastify";
import { Code, RegistryError } from "../core/errors.js";
import type { AuthService, Principal } from "../services/auth.js";
import { createClientAddress } from "./client-address.js";
import { createHotResponses, createServerWith, keepHot } from "./hot-responses.js";
import { principalOf } from "./principal.js";
import { createKeptAdmission, createRateLimiter, rateKeyOf, registerRateLimits } from "./rate-limits.js";

const user = (name: string, extra: object = {}) => ({
  id: `u-${name}`,
  name,
  isAdmin: false,
  createdAt: "",
  ...extra,
});

const auth: Pick<AuthService, "authenticate"> = {
  async authenticate(header) {
    if (!header) return {};
    if (header === "Bearer good") return { user: user("ann"), tokenId: "t-ann" };
    throw new RegistryError(Code.Unauthenticated, "invalid token");
  },
};

describe("rate limits", () => {
  it("allows `limit` requests per key and window, then refuses until the window ends", () => {
    let clock = 0;
    const limiter = createRateLimiter({ windowMs: 60_000, now: () => clock });
    const taken = Array.from({ length: 5 }, () => limiter.take("a", 3)?.allowed);
    assert.deepEqual(taken, [true, true, true, false, false]);
    assert.equal(limiter.take("b", 3)?.allowed, true, "another key is unaffected");
    clock = 45_000;
    assert.deepEqual(limiter.take("a", 3), { allowed: false, limit: 3, remaining: 0, resetSeconds: 15 });
    clock = 60_000;
    assert.deepEqual(limiter.take("a", 3), { allowed: true, limit: 3, remaining: 2, resetSeconds: 60 });
    assert.equal(limiter.take("a", 0), undefined, "0 is unlimited");
  });

  it("keeps at most maxKeys callers, dropping the oldest windows first", () => {
    let clock = 0;
    const limiter = createRateLimiter({ windowMs: 60_000, maxKeys: 2, now: () => clock });
    limiter.take("a", 1);
    clock = 1;
    limiter.take("b", 1);
    clock = 2;
    limiter.take("c", 1);
    // a's window was dropped to make room, so a starts afresh; b's still counts.
    assert.equal(limiter.take("a", 1)?.allowed, true);
    assert.equal(limiter.take("c", 1)?.allowed, false);
  });

  it("counts a token by its id and role, and anonymous callers by address", () => {
    const p = (u: ReturnType<typeof user>, tokenId = "t1"): Principal => ({ user: u, tokenId });
    assert.deepEqual(rateKeyOf(undefined, "10.0.0.1"), { key: "addr:10.0.0.1", role: "anonymous" });
    assert.deepEqual(rateKeyOf({}, "10.0.0.1"), { key: "addr:10.0.0.1", role: "anonymous" });
    assert.deepEqual(rateKeyOf(p(user("ann")), "x"), { key: "token:t1", role: "user" });
    assert.deepEqual(rateKeyOf(p(user("ci", { botOf: "acme" })), "x"), { key: "token:t1", role: "bot" });
    assert.deepEqual(rateKeyOf(p(user("root", { isAdmin: true })), "x"), { key: "token:t1", role: "admin" });
  });

  it("answers 429 with Retry-After and RateLimit headers past the limit; other callers and /healthz go on", async () => {
    const app = Fastify();
    registerRateLimits(app, auth as AuthService, {
      windowMs: 60_000,
      requests: { anonymous: 2, user: 3, bot: 0, admin: 0 },
      now: () => 0,
    });
    app.get("/x", async () => "ok");
    app.get("/healthz", async () => "ok");
    const get = (url: string, authorization?: string) =>
      app.inject({ method: "GET", url, ...(authorization ? { headers: { authorization } } : {}) });
    const anonymous = [await get("/x"), await get("/x"), await get("/x")];
    assert.deepEqual(
      anonymous.map((r) => r.statusCode),
      [200, 200, 429],
    );
    const refused = anonymous[2];
    assert.equal(refused?.headers["retry-after"], "60");
    assert.equal(refused?.headers["ratelimit-limit"], "2");
    assert.equal(refused?.headers["ratelimit-remaining"], "0");
    assert.equal(refused?.headers["ratelimit-policy"], "2;w=60");
    assert.equal(
      anonymous[0]?.headers["ratelimit-policy"],
      undefined,
      "the policy comes with a refusal only",
    );
    assert.match(refused?.body ?? "", /rateLimits.anonymous/);
    // A wrong token counts against its address.
    assert.equal((await get("/x", "Bearer wrong")).statusCode, 429);
    // The token holder has its own count.
    const ann = [await get("/x", "Bearer good"), await get("/x", "Bearer good")];
    assert.deepEqual(
      ann.map((r) => [r.statusCode, r.headers["ratelimit-remaining"]]),
      [
        [200, "2"],
        [200, "1"],
      ],
    );
    assert.equal((await get("/healthz")).statusCode, 200);
    await app.close();
  });

  it("counts downloads answered from memory like routed ones, by token or by each request's address", async () => {
    const limiter = createRateLimiter({ windowMs: 60_000, now: () => 0 });
    const limits = { windowMs: 60_000, requests: { anonymous: 3, user: 4, bot: 0, admin: 0 }, limiter };
    const hot = createHotResponses({
      epoch: () => 0,
      ttlMs: 60_000,
      maxBytes: 1 << 20,
      maxItemBytes: 1 << 16,
    });
    hot.limit(createKeptAdmission(limits, createClientAddress(true)));
    const app = Fastify({ serverFactory: createServerWith(hot, undefined), trustProxy: true });
    registerRateLimits(app, auth as AuthService, limits);
    app.addHook("onRequest", async (request) => {
      request.principal = await principalOf(auth as AuthService, request);
    });
    app.addHook("onSend", (request, reply, payload, done) => {
      hot.offer(request, reply, payload);
      done(null, payload);
    });
    let runs = 0;
    app.get("/artifact", async (_request, reply) => {
      runs++;
      return keepHot(reply).type("application/octet-stream").send(Buffer.from("bytes"));
    });
    await app.listen({ port: 0, host: "127.0.0.1" });
    const address = app.server.address();
    const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/artifact`;
    const get = async (headers: Record<string, string>) => {
      const res = await fetch(url, { headers });
      return {
        status: res.status,
        remaining: res.headers.get("ratelimit-remaining"),
        res,
        body: await res.text(),
      };
    };
    try {
      const from = (ip: string) => ({ "x-forwarded-for": ip });
      const first = [];
      for (let i = 0; i < 5; i++) first.push(await get(from("10.0.0.1")));
      assert.equal(runs, 1, "the route ran once: the other answers were kept");
      assert.deepEqual(
        first.map((r) => [r.status, r.remaining]),
        [
          [200, "2"],
          [200, "1"],
          [200, "0"],
          [429, "0"],
          [429, "0"],
        ],
      );
      const refused = first[3];
      assert.equal(refused?.res.headers.get("retry-after"), "60");
      assert.match(refused?.body ?? "", /rateLimits\.anonymous/);
      // The same kept answer for another address: its own count.
      assert.deepEqual([(await get(from("10.0.0.2"))).status, runs], [200, 1]);
      // A token's kept answer is counted under the token, whatever address it comes from.
      const ann = [];
      for (const ip of ["10.0.0.1", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"])
        ann.push(await get({ ...from(ip), authorization: "Bearer good" }));
      assert.deepEqual(
        ann.map((r) => [r.status, r.remaining]),
        [
          [200, "3"],
          [200, "2"],
          [200, "1"],
          [200, "0"],
          [429, "0"],
        ],
      );
      assert.equal(runs, 2);
    } finally {
      await app.close();
    }
  });
});
