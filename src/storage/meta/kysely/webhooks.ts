// Webhook subscriptions and deliveries over Kysely. Deliveries are the outbox: written in the change's transaction,
// claimed by one node at a time with one conditional UPDATE (a claim expires by the database clock, so a node that
// died mid-send leaves its deliveries to the others), finished only by the node that holds the claim.
import { type InsertObject, type Kysely, type RawBuilder, type Selectable, sql } from "kysely";
import type { Webhook, WebhookDelivery, WebhookDeliveryState } from "../../../core/types.js";
import type { ClaimedDelivery, DeliveryOutcome, WebhookStore } from "../metadata-store.js";
import { newAuditId } from "./audit.js";
import type { Database, WebhookDeliveriesTable, WebhooksTable } from "./schema.js";

const allKinds = "*";

function toWebhook(r: WebhooksTable): Webhook {
  return {
    id: r.id,
    ...(r.owner !== null ? { owner: r.owner } : {}),
    url: r.url,
    events: r.events.split(" ").filter(Boolean),
    createdBy: r.created_by,
    createdAt: r.created_at,
    ...(r.secret_rotated_at !== null ? { secretRotatedAt: r.secret_rotated_at } : {}),
    ...(r.previous_secret !== null && r.previous_secret_until !== null
      ? { previousSecretUntil: new Date(Number(r.previous_secret_until)).toISOString() }
      : {}),
  };
}

function toDelivery(r: Selectable<WebhookDeliveriesTable>): WebhookDelivery {
  return {
    id: r.id,
    webhookId: r.webhook_id,
    eventId: r.event_id,
    kind: r.kind,
    body: r.body,
    createdAt: r.created_at,
    state: r.state as WebhookDeliveryState,
    attempts: Number(r.attempts),
    ...(r.last_status !== null ? { lastStatus: Number(r.last_status) } : {}),
    ...(r.last_error !== null ? { lastError: r.last_error } : {}),
    ...(r.last_latency_ms !== null ? { lastLatencyMs: Number(r.last_latency_ms) } : {}),
    ...(r.finished_at !== null ? { finishedAt: r.finished_at } : {}),
  };
}

const wants = (hook: WebhooksTable, kind: string): boolean => {
  const kinds = hook.events.split(" ");
  return kinds.includes(allKinds) || kinds.includes(kind);
};

function pendingRow(
  id: string,
  webhookId: string,
  event: { id: string; kind: string; body: string },
  nowMs: RawBuilder<number>,
): InsertObject<Database, "webhook_deliveries"> {
  return {
    id,
    webhook_id: webhookId,
    event_id: event.id,
    kind: event.kind,
    body: event.body,
    created_at: new Date().toISOString(),
    state: "pending",
    attempts: 0,
    next_attempt_at: nowMs,
    claimed_by: null,
    claim_expires_at: null,
    last_status: null,
    last_error: null,
    last_latency_ms: null,
    finished_at: null,
  };
}

async function claim(
  db: Kysely<Database>,
  nowMs: RawBuilder<number>,
  holder: string,
  limit: number,
  leaseMs: number,
): Promise<ClaimedDelivery[]> {
  const due = db
    .selectFrom("webhook_deliveries")
    .select("id")
    .where("state", "=", "pending")
    .where("next_attempt_at", "<=", nowMs)
    .where((eb) => eb.or([eb("claim_expires_at", "is", null), eb("claim_expires_at", "<=", nowMs)]))
    .orderBy("next_attempt_at")
    .limit(limit);
  // The outer conditions repeat the inner ones: PostgreSQL rechecks them on a row another node claimed meanwhile
  // (read committed), so the second claimer skips it instead of taking it too.
  const rows = await db
    .updateTable("webhook_deliveries")
    .set({
      claimed_by: holder,
      claim_expires_at: sql<number>`${nowMs} + ${Math.ceil(leaseMs)}`,
      attempts: sql<number>`attempts + 1`,
    })
    .where("id", "in", due)
    .where("state", "=", "pending")
    .where((eb) => eb.or([eb("claim_expires_at", "is", null), eb("claim_expires_at", "<=", nowMs)]))
    .returningAll()
    .execute();
  if (rows.length === 0) return [];
  const hooks = await db
    .selectFrom("webhooks")
    .selectAll()
    // The grace period of a rotated secret ends by the database clock, as it was set.
    .select(sql<number>`${nowMs}`.as("now_ms"))
    .where("id", "in", [...new Set(rows.map((r) => r.webhook_id))])
    .execute();
  const byId = new Map(hooks.map((h) => [h.id, h]));
  return rows.flatMap((r) => {
    const hook = byId.get(r.webhook_id);
    if (!hook) return [];
    const graceLasts =
      hook.previous_secret !== null && Number(hook.previous_secret_until ?? 0) > Number(hook.now_ms);
    return [
      {
        ...toDelivery(r),
        url: hook.url,
        secret: hook.secret,
        ...(graceLasts && hook.previous_secret !== null ? { previousSecret: hook.previous_secret } : {}),
      },
    ];
  });
}

async function rotateWebhookSecret(
  db: Kysely<Database>,
  nowMs: RawBuilder<number>,
  ...[id, secret, graceMs]: Parameters<WebhookStore["rotateWebhookSecret"]>
): ReturnType<WebhookStore["rotateWebhookSecret"]> {
  const grace = Math.max(0, Math.ceil(graceMs));
  // The right-hand sides read the row as it was: the old secret becomes the previous one.
  const res = await db
    .updateTable("webhooks")
    .set({
      previous_secret: grace > 0 ? sql<string>`secret` : null,
      previous_secret_until: grace > 0 ? sql<number>`${nowMs} + ${grace}` : null,
      secret,
      secret_rotated_at: new Date().toISOString(),
    })
    .where("id", "=", id)
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) !== 1) return undefined;
  const row = await db.selectFrom("webhooks").selectAll().where("id", "=", id).executeTakeFirst();
  return row && toWebhook(row);
}

function finishedState(outcome: DeliveryOutcome): WebhookDeliveryState {
  if (outcome.ok) return "succeeded";
  return outcome.retryInMs === undefined ? "failed" : "pending";
}

async function enqueueWebhookEvent(
  db: Kysely<Database>,
  nowMs: RawBuilder<number>,
  ...[event]: Parameters<WebhookStore["enqueueWebhookEvent"]>
): ReturnType<WebhookStore["enqueueWebhookEvent"]> {
  const owner = event.owner;
  const hooks = await db
    .selectFrom("webhooks")
    .selectAll()
    .where((eb) =>
      owner === undefined
        ? eb("owner", "is", null)
        : eb.or([eb("owner", "is", null), eb("owner", "=", owner)]),
    )
    .execute();
  const matching = hooks.filter((h) => wants(h, event.kind));
  if (matching.length === 0) return 0;
  await db
    .insertInto("webhook_deliveries")
    .values(matching.map((h) => pendingRow(newAuditId(Date.now()), h.id, event, nowMs)))
    .execute();
  return matching.length;
}

async function finishWebhookDelivery(
  db: Kysely<Database>,
  nowMs: RawBuilder<number>,
  ...[id, holder, outcome]: Parameters<WebhookStore["finishWebhookDelivery"]>
): ReturnType<WebhookStore["finishWebhookDelivery"]> {
  const res = await db
    .updateTable("webhook_deliveries")
    .set({
      state: finishedState(outcome),
      next_attempt_at: sql<number>`${nowMs} + ${Math.ceil(outcome.retryInMs ?? 0)}`,
      claimed_by: null,
      claim_expires_at: null,
      last_status: outcome.status ?? null,
      last_error: outcome.error?.slice(0, 500) ?? null,
      last_latency_ms: Math.round(outcome.latencyMs),
      finished_at: finishedState(outcome) === "pending" ? null : new Date().toISOString(),
    })
    .where("id", "=", id)
    .where("claimed_by", "=", holder)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

async function redeliverWebhook(
  db: Kysely<Database>,
  nowMs: RawBuilder<number>,
  ...[deliveryId]: Parameters<WebhookStore["redeliverWebhook"]>
): ReturnType<WebhookStore["redeliverWebhook"]> {
  const old = await db
    .selectFrom("webhook_deliveries")
    .selectAll()
    .where("id", "=", deliveryId)
    .executeTakeFirst();
  if (!old) return undefined;
  const id = newAuditId(Date.now());
  const event = { id: old.event_id, kind: old.kind, body: old.body };
  await db
    .insertInto("webhook_deliveries")
    .values(pendingRow(id, old.webhook_id, event, nowMs))
    .execute();
  const stored = await db
    .selectFrom("webhook_deliveries")
    .selectAll()
    .where("id", "=", id)
    .executeTakeFirstOrThrow();
  return toDelivery(stored);
}

export function createKyselyWebhookStore(db: Kysely<Database>, nowMs: RawBuilder<number>): WebhookStore {
  return {
    async createWebhook(hook) {
      const row: WebhooksTable = {
        id: hook.id,
        owner: hook.owner ?? null,
        url: hook.url,
        secret: hook.secret,
        events: hook.events.join(" "),
        created_by: hook.createdBy,
        created_at: new Date().toISOString(),
        previous_secret: null,
        previous_secret_until: null,
        secret_rotated_at: null,
      };
      await db.insertInto("webhooks").values(row).execute();
      return toWebhook(row);
    },

    async getWebhook(id) {
      const row = await db.selectFrom("webhooks").selectAll().where("id", "=", id).executeTakeFirst();
      return row && toWebhook(row);
    },

    async listWebhooks(owner) {
      let q = db.selectFrom("webhooks").selectAll();
      if (owner === null) q = q.where("owner", "is", null);
      else if (owner !== undefined) q = q.where("owner", "=", owner);
      return (await q.orderBy("created_at").orderBy("id").execute()).map(toWebhook);
    },

    async deleteWebhook(id) {
      await db.deleteFrom("webhook_deliveries").where("webhook_id", "=", id).execute();
      const res = await db.deleteFrom("webhooks").where("id", "=", id).executeTakeFirst();
      return Number(res.numDeletedRows) === 1;
    },

    rotateWebhookSecret: (id, secret, graceMs) => rotateWebhookSecret(db, nowMs, id, secret, graceMs),

    enqueueWebhookEvent: (event) => enqueueWebhookEvent(db, nowMs, event),

    claimWebhookDeliveries: (holder, limit, leaseMs) => claim(db, nowMs, holder, limit, leaseMs),

    finishWebhookDelivery: (id, holder, outcome) => finishWebhookDelivery(db, nowMs, id, holder, outcome),

    async listWebhookDeliveries(webhookId, limit) {
      const rows = await db
        .selectFrom("webhook_deliveries")
        .selectAll()
        .where("webhook_id", "=", webhookId)
        .orderBy("id", "desc")
        .limit(limit)
        .execute();
      return rows.map(toDelivery);
    },

    async getWebhookDelivery(id) {
      const row = await db
        .selectFrom("webhook_deliveries")
        .selectAll()
        .where("id", "=", id)
        .executeTakeFirst();
      return row && toDelivery(row);
    },

    redeliverWebhook: (deliveryId) => redeliverWebhook(db, nowMs, deliveryId),

    async pruneWebhookDeliveries(before) {
      const res = await db
        .deleteFrom("webhook_deliveries")
        .where("state", "!=", "pending")
        .where("created_at", "<", before)
        .executeTakeFirst();
      return Number(res.numDeletedRows);
    },
  };
}
