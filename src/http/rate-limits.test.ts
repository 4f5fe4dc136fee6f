// Rate limits: counts per window with a fake clock, and the hook on a real Fastify app (inject, no sockets).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import Fastify from "fastify";
import { Code, RegistryError } from "../core/errors.js";
import type { AuthService, Principal } from "../services/auth.js";
import { createRateLimiter, rateKeyOf, registerRateLimits } from "./rate-limits.js";

const user = (name: string, extra: object = {}) => ({
  id: `u-${name}`,
  name,
  isAdmin: false,
  createdAt: "",
  ...extra,
});

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
    const auth: Pick<AuthService, "authenticate"> = {
      async authenticate(header) {
        if (!header) return {};
        if (header === "Bearer good") return { user: user("ann"), tokenId: "t-ann" };
        throw new RegistryError(Code.Unauthenticated, "invalid token");
      },
    };
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
});
