import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { User } from "../core/types.js";
import { anonymous, type Principal } from "./auth.js";
import { createResolutionCache } from "./resolution-cache.js";

const user = (id: string, isAdmin = false): Principal => ({
  user: { id, name: id, isAdmin, createdAt: "" } satisfies User,
});

describe("resolution cache", () => {
  const counting = () => {
    let loads = 0;
    return {
      loads: () => loads,
      load: async () => ({ n: ++loads }),
    };
  };

  it("reuses a resolution for the same caller and key within one epoch", async () => {
    const cache = createResolutionCache({ epoch: () => 0, ttlMs: 60_000 });
    const c = counting();
    assert.deepEqual(await cache.get(user("u1"), "k", c.load), { n: 1 });
    assert.deepEqual(await cache.get(user("u1"), "k", c.load), { n: 1 });
    assert.equal(c.loads(), 1);
  });

  it("never shares a resolution between callers, nor between a user and the same user as admin", async () => {
    const cache = createResolutionCache({ epoch: () => 0, ttlMs: 60_000 });
    const c = counting();
    await cache.get(user("u1"), "k", c.load);
    await cache.get(user("u2"), "k", c.load);
    await cache.get(anonymous, "k", c.load);
    await cache.get(user("u1", true), "k", c.load);
    assert.equal(c.loads(), 4);
  });

  it("misses once the epoch moved (a label, head, visibility or membership changed)", async () => {
    let epoch = 0;
    const cache = createResolutionCache({ epoch: () => epoch, ttlMs: 60_000 });
    const c = counting();
    await cache.get(anonymous, "k", c.load);
    epoch++;
    assert.deepEqual(await cache.get(anonymous, "k", c.load), { n: 2 });
  });

  it("keeps nothing a write raced with", async () => {
    let epoch = 0;
    const cache = createResolutionCache({ epoch: () => epoch, ttlMs: 60_000 });
    let loads = 0;
    const racing = async () => {
      loads++;
      epoch++;
      return { loads };
    };
    await cache.get(anonymous, "k", racing);
    await cache.get(anonymous, "k", racing);
    assert.equal(loads, 2);
  });

  it("keeps no failure", async () => {
    const cache = createResolutionCache({ epoch: () => 0, ttlMs: 60_000 });
    let calls = 0;
    const failing = async (): Promise<object> => {
      calls++;
      throw new Error("not found");
    };
    await assert.rejects(cache.get(anonymous, "k", failing));
    await assert.rejects(cache.get(anonymous, "k", failing));
    assert.equal(calls, 2);
  });

  it("misses after the TTL (another node's write shows within it)", async () => {
    const cache = createResolutionCache({ epoch: () => 0, ttlMs: 30 });
    const c = counting();
    await cache.get(anonymous, "k", c.load);
    await new Promise((r) => setTimeout(r, 60));
    await cache.get(anonymous, "k", c.load);
    assert.equal(c.loads(), 2);
  });

  it("remembers nothing with a TTL of 0", async () => {
    const cache = createResolutionCache({ epoch: () => 0, ttlMs: 0 });
    const c = counting();
    await cache.get(anonymous, "k", c.load);
    await cache.get(anonymous, "k", c.load);
    assert.equal(c.loads(), 2);
  });
});
