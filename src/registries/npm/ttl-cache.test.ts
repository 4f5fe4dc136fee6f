import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createTtlCache } from "./ttl-cache.js";

describe("ttl cache", () => {
  it("shares one load among concurrent callers and keeps it for the ttl", async () => {
    let clock = 0;
    let loads = 0;
    const cache = createTtlCache<number>(1000, 10, () => clock);
    const load = async () => ++loads;
    assert.deepEqual(await Promise.all([cache.get("k", load), cache.get("k", load)]), [1, 1]);
    clock = 999;
    assert.equal(await cache.get("k", load), 1);
    clock = 2000;
    assert.equal(await cache.get("k", load), 2);
  });

  it("does not keep failures, and with ttl 0 keeps nothing once settled", async () => {
    const failing = createTtlCache<number>(1000);
    await assert.rejects(failing.get("k", async () => Promise.reject(new Error("boom"))));
    assert.equal(await failing.get("k", async () => 7), 7);
    let loads = 0;
    const none = createTtlCache<number>(0);
    await none.get("k", async () => ++loads);
    await none.get("k", async () => ++loads);
    assert.equal(loads, 2);
  });

  it("drops the oldest entries beyond its size", async () => {
    let loads = 0;
    const cache = createTtlCache<number>(1000, 2);
    for (const k of ["a", "b", "c"]) await cache.get(k, async () => ++loads);
    assert.equal(await cache.get("a", async () => ++loads), 4);
    assert.equal(await cache.get("c", async () => ++loads), 3);
  });
});
