// The contract of the webhook outbox and the shared rate counters, part of runMetadataStoreSuite on every driver.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { MetadataStore, WebhookEvent } from "../metadata-store.js";

/** Subscription "w": every event of acme. */
const subscribeToAcme = (s: MetadataStore) =>
  s.createWebhook({ id: "w", owner: "acme", url: "https://x/", secret: "k", events: ["*"], createdBy: "a" });

const event = (id: string, kind: string, owner?: string): WebhookEvent => ({
  id,
  kind,
  ...(owner ? { owner } : {}),
  body: JSON.stringify({ id, kind }),
  at: "2026-03-01T10:00:00.000Z",
});

function webhookCases1(store: () => MetadataStore): void {
  describe("webhooks (1 of 3)", () => {
    it("creates, lists by owner and deletes subscriptions with their deliveries", async () => {
      const s = store();
      const a = await s.createWebhook({
        id: "w1",
        owner: "acme",
        url: "https://a.example/hook",
        secret: "s1",
        events: ["commit.pushed", "label.moved"],
        createdBy: "alice",
      });
      await s.createWebhook({
        id: "w2",
        url: "https://b.example/",
        secret: "s2",
        events: ["*"],
        createdBy: "root",
      });
      assert.deepEqual(await s.getWebhook("w1"), a);
      assert.equal("secret" in a, false);
      assert.deepEqual(
        (await s.listWebhooks("acme")).map((w) => w.id),
        ["w1"],
      );
      assert.deepEqual(
        (await s.listWebhooks(null)).map((w) => w.id),
        ["w2"],
      );
      assert.equal((await s.listWebhooks()).length, 2);
      assert.equal(await s.enqueueWebhookEvent(event("e1", "commit.pushed", "acme")), 2);
      assert.equal(await s.deleteWebhook("w1"), true);
      assert.equal(await s.deleteWebhook("w1"), false);
      assert.deepEqual(await s.listWebhookDeliveries("w1", 10), []);
      assert.equal((await s.listWebhookDeliveries("w2", 10)).length, 1);
    });

    it("enqueues one delivery per matching subscription: owner's and server-wide, by kind", async () => {
      const s = store();
      const base = { secret: "k", createdBy: "alice" };
      await s.createWebhook({
        ...base,
        id: "acme-push",
        owner: "acme",
        url: "https://x/1",
        events: ["commit.pushed"],
      });
      await s.createWebhook({ ...base, id: "acme-all", owner: "acme", url: "https://x/2", events: ["*"] });
      await s.createWebhook({ ...base, id: "other", owner: "other", url: "https://x/3", events: ["*"] });
      await s.createWebhook({ ...base, id: "server", url: "https://x/4", events: ["label.moved"] });
      assert.equal(await s.enqueueWebhookEvent(event("e1", "commit.pushed", "acme")), 2);
      assert.equal(await s.enqueueWebhookEvent(event("e2", "label.moved", "acme")), 2);
      assert.equal(await s.enqueueWebhookEvent(event("e3", "label.moved")), 1);
      assert.equal(await s.enqueueWebhookEvent(event("e4", "plugin.version.pushed", "nobody")), 0);
      const [d] = await s.listWebhookDeliveries("acme-push", 10);
      assert.equal(d?.eventId, "e1");
      assert.equal(d?.state, "pending");
      assert.equal(d?.attempts, 0);
      assert.equal(d?.body, JSON.stringify({ id: "e1", kind: "commit.pushed" }));
    });

    it("commits deliveries with the transaction that wrote them, and not at all when it rolls back", async () => {
      const s = store();
      await subscribeToAcme(s);
      await s.transaction(async (tx) => {
        await tx.enqueueWebhookEvent(event("kept", "commit.pushed", "acme"));
      });
      await assert.rejects(
        s.transaction(async (tx) => {
          await tx.enqueueWebhookEvent(event("lost", "commit.pushed", "acme"));
          throw new Error("the change failed");
        }),
        /the change failed/,
      );
      assert.deepEqual(
        (await s.listWebhookDeliveries("w", 10)).map((d) => d.eventId),
        ["kept"],
      );
    });
  });
}

function webhookCases2(store: () => MetadataStore): void {
  describe("webhooks (2 of 3)", () => {
    it("lets one holder claim a due delivery; others see nothing until it is finished or its claim expires", async () => {
      const s = store();
      await subscribeToAcme(s);
      for (let i = 0; i < 5; i++) await s.enqueueWebhookEvent(event(`e${i}`, "commit.pushed", "acme"));
      // Racing claimers (on PostgreSQL, each on its own pooled connection): every delivery goes to exactly one.
      const claims = await Promise.all(
        ["n1", "n2", "n3", "n4"].map((holder) => s.claimWebhookDeliveries(holder, 5, 60_000)),
      );
      const ids = claims.flat().map((d) => d.id);
      assert.equal(ids.length, 5);
      assert.equal(new Set(ids).size, 5);
      const first = claims.flat()[0];
      assert.ok(first);
      assert.equal(first.url, "https://x/");
      assert.equal(first.secret, "k");
      assert.equal(first.attempts, 1);
      assert.deepEqual(await s.claimWebhookDeliveries("n5", 10, 60_000), []);
      // Only the holder of a claim may finish it.
      const holder = claims.findIndex((c) => c.some((d) => d.id === first.id));
      assert.equal(
        await s.finishWebhookDelivery(first.id, "someone-else", { ok: true, latencyMs: 1 }),
        false,
      );
      assert.equal(
        await s.finishWebhookDelivery(first.id, `n${holder + 1}`, { ok: true, status: 204, latencyMs: 12 }),
        true,
      );
      const done = await s.getWebhookDelivery(first.id);
      assert.equal(done?.state, "succeeded");
      assert.equal(done?.lastStatus, 204);
      assert.equal(done?.lastLatencyMs, 12);
      assert.ok(done?.finishedAt);
    });

    it("retries a failed attempt when due, gives up when told, and takes back an expired claim", async () => {
      const s = store();
      await subscribeToAcme(s);
      await s.enqueueWebhookEvent(event("e1", "commit.pushed", "acme"));
      const [d] = await s.claimWebhookDeliveries("n1", 1, 60_000);
      assert.ok(d);
      await s.finishWebhookDelivery(d.id, "n1", { ok: false, status: 500, latencyMs: 3, retryInMs: 0 });
      const again = await s.claimWebhookDeliveries("n1", 1, 60_000);
      assert.equal(again[0]?.attempts, 2);
      assert.equal(again[0]?.lastStatus, 500);
      await s.finishWebhookDelivery(d.id, "n1", { ok: false, error: "timed out", latencyMs: 3 });
      const failed = await s.getWebhookDelivery(d.id);
      assert.equal(failed?.state, "failed");
      assert.equal(failed?.lastError, "timed out");
      assert.deepEqual(await s.claimWebhookDeliveries("n1", 1, 60_000), []);
      // A retry in the future is not due yet.
      await s.enqueueWebhookEvent(event("e2", "commit.pushed", "acme"));
      const [later] = await s.claimWebhookDeliveries("n1", 1, 60_000);
      assert.ok(later);
      await s.finishWebhookDelivery(later.id, "n1", {
        ok: false,
        status: 503,
        latencyMs: 1,
        retryInMs: 600_000,
      });
      assert.deepEqual(await s.claimWebhookDeliveries("n2", 1, 60_000), []);
      // A claim that expired (its node died mid-send) goes to the next claimer, and the old holder cannot finish it.
      await s.enqueueWebhookEvent(event("e3", "commit.pushed", "acme"));
      const [lost] = await s.claimWebhookDeliveries("dead", 1, 0);
      assert.ok(lost);
      const [taken] = await s.claimWebhookDeliveries("alive", 1, 60_000);
      assert.equal(taken?.id, lost.id);
      assert.equal(await s.finishWebhookDelivery(lost.id, "dead", { ok: true, latencyMs: 1 }), false);
    });
  });
}

function webhookCases3(store: () => MetadataStore): void {
  describe("webhooks (3 of 3)", () => {
    it("redelivers as a new pending delivery of the same event", async () => {
      const s = store();
      await subscribeToAcme(s);
      await s.enqueueWebhookEvent(event("e1", "commit.pushed", "acme"));
      const [d] = await s.claimWebhookDeliveries("n1", 1, 60_000);
      assert.ok(d);
      await s.finishWebhookDelivery(d.id, "n1", { ok: false, status: 410, latencyMs: 1 });
      const again = await s.redeliverWebhook(d.id);
      assert.equal(again?.eventId, "e1");
      assert.equal(again?.state, "pending");
      assert.equal(again?.body, d.body);
      assert.notEqual(again?.id, d.id);
      assert.equal((await s.getWebhookDelivery(d.id))?.state, "failed");
      assert.equal(await s.redeliverWebhook("missing"), undefined);
      const listed = await s.listWebhookDeliveries("w", 10);
      assert.deepEqual(
        listed.map((x) => x.id),
        [again?.id, d.id],
      );
      // Pruning removes finished deliveries only: the pending redelivery stays.
      assert.equal(await s.pruneWebhookDeliveries("9999-01-01T00:00:00.000Z"), 1);
      assert.deepEqual(
        (await s.listWebhookDeliveries("w", 10)).map((x) => x.id),
        [again?.id],
      );
      assert.equal(await s.pruneWebhookDeliveries("2000-01-01T00:00:00.000Z"), 0);
    });
  });

  describe("webhook secret rotation", () => {
    it("signs with the replaced secret too while its grace lasts, by the database clock, then only the new", async () => {
      const s = store();
      const base = { owner: "acme", url: "https://x/", events: ["*"], createdBy: "a" };
      await s.createWebhook({ ...base, id: "w", secret: "k1" });
      const claimOne = async (holder: string) => {
        await s.enqueueWebhookEvent(event(`e-${holder}`, "commit.pushed", "acme"));
        const [d] = await s.claimWebhookDeliveries(holder, 1, 60_000);
        assert.ok(d);
        await s.finishWebhookDelivery(d.id, holder, { ok: true, latencyMs: 1 });
        return d;
      };
      const rotated = await s.rotateWebhookSecret("w", "k2", 3_600_000);
      assert.ok(rotated?.secretRotatedAt);
      assert.ok(rotated.previousSecretUntil && rotated.previousSecretUntil > rotated.secretRotatedAt);
      assert.equal("secret" in rotated, false);
      const during = await claimOne("n1");
      assert.equal(during.secret, "k2");
      assert.equal(during.previousSecret, "k1");
      // Rotated again within the grace period: the secret before it is dropped, the one just replaced signs.
      await s.rotateWebhookSecret("w", "k3", 3_600_000);
      const again = await claimOne("n2");
      assert.deepEqual([again.secret, again.previousSecret], ["k3", "k2"]);
      // A grace period that has ended (a millisecond, waited out) leaves the new secret alone.
      await s.rotateWebhookSecret("w", "k4", 1);
      await new Promise((r) => setTimeout(r, 20));
      const ended = await claimOne("n3");
      assert.deepEqual([ended.secret, ended.previousSecret], ["k4", undefined]);
      // No grace period: the old secret stops at once, and nothing says it lasts.
      const now = await s.rotateWebhookSecret("w", "k5", 0);
      assert.equal(now?.previousSecretUntil, undefined);
      const after = await claimOne("n4");
      assert.deepEqual([after.secret, after.previousSecret], ["k5", undefined]);
      assert.equal(await s.rotateWebhookSecret("missing", "k", 0), undefined);
    });
  });

  describe("rate counters", () => {
    it("adds to a key's window atomically and answers the total; windows and keys are apart", async () => {
      const s = store();
      assert.equal(await s.addRateCount("token:a", 60_000, 1), 1);
      assert.equal(await s.addRateCount("token:a", 60_000, 4), 5);
      assert.equal(await s.addRateCount("token:b", 60_000, 1), 1);
      assert.equal(await s.addRateCount("token:a", 120_000, 2), 2);
      const totals = await Promise.all(
        Array.from({ length: 20 }, () => s.addRateCount("token:c", 60_000, 1)),
      );
      assert.deepEqual(
        [...totals].sort((x, y) => x - y),
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
      assert.equal(await s.pruneRateCounts(120_000), 3);
      assert.equal(await s.addRateCount("token:a", 60_000, 1), 1);
    });
  });
}

/** The webhook outbox and the shared rate counters, part of runMetadataStoreSuite on every driver. */
export function runWebhookStoreSuite(store: () => MetadataStore): void {
  webhookCases1(store);
  webhookCases2(store);
  webhookCases3(store);
}
