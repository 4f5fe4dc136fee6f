// The dispatcher over a real SQLite outbox: retries with backoff until maxAttempts, then gives up.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { createSqliteMetadataStore } from "../../storage/meta/sqlite/sqlite-metadata-store.js";
import { retryDelay, startWebhookDispatcher } from "./dispatcher.js";

describe("webhook dispatcher", () => {
  it("waits twice as long after each failed attempt, up to the maximum, and stops at maxAttempts", () => {
    const o = { maxAttempts: 5, retryBaseMs: 1000, retryMaxMs: 5000 };
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => retryDelay(n, o)),
      [1000, 2000, 4000, 5000, undefined],
    );
  });

  it("sends a failing delivery maxAttempts times, records each, and marks it failed", async () => {
    const dir = await mkdtemp(join(tmpdir(), "protodepot-dispatch-"));
    const meta = await createSqliteMetadataStore({ path: join(dir, "m.sqlite") });
    try {
      await meta.createWebhook({
        id: "w",
        owner: "acme",
        url: "http://x/",
        secret: "k",
        events: ["*"],
        createdBy: "a",
      });
      await meta.enqueueWebhookEvent({ id: "e1", kind: "commit.pushed", owner: "acme", body: "{}", at: "" });
      const attempts: string[] = [];
      let finished: () => void = () => {};
      const done = new Promise<void>((resolve) => (finished = resolve));
      const dispatcher = startWebhookDispatcher({
        store: meta,
        holder: "n1",
        send: async (d) => {
          attempts.push(d.eventId);
          if (attempts.length === 3) setImmediate(finished);
          return { ok: false, status: 503, latencyMs: 1 };
        },
        timeoutMs: 1000,
        maxAttempts: 3,
        retryBaseMs: 0,
        retryMaxMs: 0,
        pollMs: 10,
        concurrency: 2,
        retentionDays: 0,
        log: { warn() {} },
      });
      await done;
      await dispatcher.close();
      assert.deepEqual(attempts, ["e1", "e1", "e1"]);
      const [d] = await meta.listWebhookDeliveries("w", 10);
      assert.equal(d?.state, "failed");
      assert.equal(d?.attempts, 3);
      assert.equal(d?.lastStatus, 503);
    } finally {
      await meta.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
