// Shared rate limits over a real SQLite store: two limiters (two nodes) on one database, with fake clocks.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Code, isRegistryError } from "../core/errors.js";
import type { MetadataStore } from "../storage/meta/metadata-store.js";
import { createSqliteMetadataStore } from "../storage/meta/sqlite/sqlite-metadata-store.js";
import { createGenerationBudget, createRateLimiter, createSharedRateLimiter } from "./rate-limiter.js";

const log = { warn() {} };

describe("shared rate limits", () => {
  let dir: string;
  let meta: MetadataStore;
  let clock = 120_000;
  const node = (slackPercent: number) =>
    createSharedRateLimiter({
      windowMs: 60_000,
      store: meta,
      slackPercent,
      log,
      now: () => clock,
      flushMs: 3_600_000,
    });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "protodepot-rate-"));
    meta = await createSqliteMetadataStore({ path: join(dir, "m.sqlite") });
  });
  after(async () => {
    await meta.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("holds a small limit exactly across two nodes, and keeps other keys apart", async () => {
    const [one, two] = [node(5), node(5)];
    const allowed: boolean[] = [];
    for (let i = 0; i < 10; i++)
      allowed.push(Boolean((await (i % 2 ? two : one).take("token:a", 6))?.allowed));
    assert.equal(allowed.filter(Boolean).length, 6);
    assert.deepEqual(allowed.slice(0, 6), [true, true, true, true, true, true]);
    assert.equal((await two.take("token:b", 6))?.allowed, true);
    const refused = await one.take("token:a", 6);
    assert.equal(refused?.remaining, 0);
    assert.equal(refused?.resetSeconds, 60);
    await Promise.all([one.close?.(), two.close?.()]);
  });

  it("admits a large limit locally in batches, within the documented slack per other node", async () => {
    const limit = 1000;
    const slack = 5;
    const [one, two] = [node(slack), node(slack)];
    let admitted = 0;
    for (let i = 0; i < 3000; i++)
      if ((await (i % 2 ? two : one).take("token:big", limit))?.allowed) admitted++;
    const batch = Math.floor((limit * slack) / 100);
    assert.ok(admitted >= limit, `${admitted} admitted`);
    assert.ok(admitted <= limit + (batch - 1), `${admitted} admitted, more than ${limit} + ${batch - 1}`);
    // Only every batch-th request went to the database.
    assert.equal(await meta.addRateCount("token:big", 120_000, 0), 3000 - (3000 % batch));
    await Promise.all([one.close?.(), two.close?.()]);
  });

  it("decides within a node's batch at once, and asks the store only for the batch's last request", async () => {
    const one = node(5);
    const batch = 5; // 5 % of 100
    const answers = Array.from({ length: batch * 2 }, () => one.take("token:sync", 100));
    // A decision made on the node's own estimate is not a promise: a kept answer can be counted in its own turn.
    assert.deepEqual(
      answers.map((a) => a instanceof Promise),
      [false, false, false, false, true, false, false, false, false, true],
    );
    const settled = await Promise.all(answers);
    assert.deepEqual(
      settled.map((d) => d?.remaining),
      [99, 98, 97, 96, 95, 94, 93, 92, 91, 90],
    );
    await one.close?.();
    assert.equal(await meta.addRateCount("token:sync", 120_000, 0), 10);
  });

  it("starts afresh in the next window, and flushes what is pending at close", async () => {
    const one = node(50);
    for (let i = 0; i < 3; i++) await one.take("token:w", 100);
    await one.close?.();
    assert.equal(await meta.addRateCount("token:w", 120_000, 0), 3);
    clock = 180_000;
    const two = node(0);
    assert.equal((await two.take("token:w", 1))?.allowed, true);
    assert.equal((await two.take("token:w", 1))?.allowed, false);
    await two.close?.();
  });

  it("counts cold generations apart from requests, by role, with a retry time", async () => {
    const limiter = createRateLimiter({ windowMs: 60_000, now: () => 0 });
    const budget = createGenerationBudget({
      limiter,
      windowMs: 60_000,
      generations: { anonymous: 1, user: 2, bot: 0, admin: 0 },
    });
    assert.ok(budget);
    const ann = { user: { id: "u", name: "ann", isAdmin: false, createdAt: "" }, tokenId: "t-ann" };
    await budget.charge(ann);
    await budget.charge(ann);
    await assert.rejects(budget.charge(ann), (err: unknown) => {
      assert.ok(isRegistryError(err, Code.TooManyRequests));
      assert.match(err.message, /rateLimits\.generations\.user/);
      assert.equal(err.fields.retryAfterSeconds, 60);
      return true;
    });
    // Requests of the same token are another count.
    assert.equal(limiter.take("token:t-ann", 5)?.remaining, 4);
    await budget.charge({ client: { address: "10.0.0.9" } });
    await assert.rejects(budget.charge({ client: { address: "10.0.0.9" } }), /generations\.anonymous/);
    await budget.charge({ client: { address: "10.0.0.10" } });
    assert.equal(
      createGenerationBudget({
        limiter,
        windowMs: 1,
        generations: { anonymous: 0, user: 0, bot: 0, admin: 0 },
      }),
      undefined,
    );
  });
});
