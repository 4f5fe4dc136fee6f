// Webhook subscriptions (docs/webhooks.md): an organization's owners (or the user themself) subscribe a URL to
// their owner's events; admins also to every event of the server (no owner). The secret is made here and answered
// once, at creation. Deliveries are listed and redelivered by whoever may manage the subscription; a subscription
// the caller may not manage answers as a missing one.
import { randomBytes } from "node:crypto";
import { Code, isRegistryError, RegistryError } from "../core/errors.js";
import { checkName } from "../core/names.js";
import type { Webhook, WebhookDelivery } from "../core/types.js";
import type { WebhookStore } from "../storage/meta/metadata-store.js";
import type { AccessPolicy } from "./access.js";
import type { AuditTrail } from "./audit.js";
import { type Principal, requireAdmin, requireUser } from "./auth.js";
import { eventKinds, isEventKind } from "./events.js";
import { requireUnscoped } from "./scopes.js";
import type { TargetPolicy } from "./webhooks/targets.js";

export interface NewWebhook {
  /** Whose events; absent: every event of the server (admins only). */
  owner?: string;
  url: string;
  /** Event kinds; empty or `*`: all. */
  events: readonly string[];
}

export interface WebhookService {
  /** The subscription and its secret, which is never answered again. */
  create(principal: Principal, input: NewWebhook): Promise<{ webhook: Webhook; secret: string }>;
  /** An owner's subscriptions (its managers), or with no owner the server-wide ones (admins). */
  list(principal: Principal, owner?: string): Promise<Webhook[]>;
  delete(principal: Principal, id: string): Promise<void>;
  /**
   * A new secret, answered only here; the replaced one keeps signing beside it for `graceSeconds` (default a day,
   * 0: stops at once), so receivers can switch without refusing a delivery.
   */
  rotateSecret(
    principal: Principal,
    id: string,
    graceSeconds?: number,
  ): Promise<{ webhook: Webhook; secret: string }>;
  deliveries(principal: Principal, id: string, limit?: number): Promise<WebhookDelivery[]>;
  /** Sends a delivery's event again, as a new delivery. */
  redeliver(principal: Principal, deliveryId: string): Promise<WebhookDelivery>;
}

export interface WebhookServiceOptions {
  store: WebhookStore;
  access: Pick<AccessPolicy, "requireManage">;
  targets: Pick<TargetPolicy, "check">;
  audit?: Pick<AuditTrail, "record">;
  /** Subscriptions per owner (and server-wide). */
  maxPerOwner?: number;
}

const maxDeliveriesPage = 200;

function checkEvents(events: readonly string[]): string[] {
  const kinds = [...new Set(events.map((e) => e.trim()).filter(Boolean))];
  if (kinds.length === 0 || kinds.includes("*")) return ["*"];
  for (const kind of kinds) {
    if (!isEventKind(kind)) {
      throw new RegistryError(
        Code.InvalidArgument,
        `unknown webhook event "${kind.slice(0, 64)}": use * or some of ${eventKinds.join(", ")}`,
        { op: "creating a webhook" },
      );
    }
  }
  return kinds;
}

const defaultMaxPerOwner = 25;
/** How long a replaced secret signs when the caller does not say: a day. */
export const defaultGraceSeconds = 24 * 60 * 60;
/** The longest grace period: a rotation is meant to end. */
export const maxGraceSeconds = 30 * 24 * 60 * 60;

const newSecret = () => `whsec_${randomBytes(24).toString("hex")}`;

/** Who may manage a subscription of `owner` (undefined: a server-wide one): its owners, or admins. */
async function requireManager(
  o: WebhookServiceOptions,
  principal: Principal,
  owner: string | undefined,
  op: string,
) {
  requireUser(principal, op);
  requireUnscoped(principal.scopes, op);
  if (owner === undefined) return requireAdmin(principal, op);
  return o.access.requireManage(principal, owner, op);
}

/** The subscription, when the caller may manage it; else NotFound, as for one that does not exist. */
async function managed(
  o: WebhookServiceOptions,
  principal: Principal,
  id: string,
  op: string,
): Promise<Webhook> {
  requireUser(principal, op);
  const hook = /^[0-9a-f]{24}$/.test(id) ? await o.store.getWebhook(id) : undefined;
  const missing = new RegistryError(Code.NotFound, `webhook ${id.slice(0, 64)} does not exist`, { op });
  if (!hook) throw missing;
  try {
    await requireManager(o, principal, hook.owner, op);
  } catch (err) {
    if (isRegistryError(err, Code.PermissionDenied)) throw missing;
    throw err;
  }
  return hook;
}

/** A subscription of an owner (its owners) or of the server (admins); the secret is shown only here. */
async function createWebhook(
  o: WebhookServiceOptions,
  ...[principal, input]: Parameters<WebhookService["create"]>
): ReturnType<WebhookService["create"]> {
  const maxPerOwner = o.maxPerOwner ?? defaultMaxPerOwner;
  const op = "creating a webhook";
  const owner = input.owner ? checkName("owner", input.owner) : undefined;
  const user = await requireManager(o, principal, owner, op);
  const events = checkEvents(input.events);
  await o.targets.check(input.url);
  if ((await o.store.listWebhooks(owner ?? null)).length >= maxPerOwner) {
    throw new RegistryError(
      Code.ResourceExhausted,
      `${owner ?? "the server"} has ${maxPerOwner} webhooks already: delete one first ('protodepot webhook list')`,
      { op },
    );
  }
  const secret = newSecret();
  const webhook = await o.store.createWebhook({
    id: randomBytes(12).toString("hex"),
    ...(owner ? { owner } : {}),
    url: input.url,
    secret,
    events,
    createdBy: user.name,
  });
  await o.audit?.record(principal, {
    action: "webhook.create",
    target: `webhook ${webhook.id}`,
    ...(owner ? { owner } : {}),
    after: { url: webhook.url, events },
  });
  return { webhook, secret };
}

/** Replaces a subscription's secret; the old one signs beside it until the grace period ends. */
async function rotateSecret(
  o: WebhookServiceOptions,
  ...[principal, id, graceSeconds]: Parameters<WebhookService["rotateSecret"]>
): ReturnType<WebhookService["rotateSecret"]> {
  const op = "rotating a webhook's secret";
  const hook = await managed(o, principal, id, op);
  const grace = graceSeconds ?? defaultGraceSeconds;
  if (!Number.isInteger(grace) || grace < 0 || grace > maxGraceSeconds) {
    throw new RegistryError(
      Code.InvalidArgument,
      `a grace period is 0 to ${maxGraceSeconds} seconds (30 days), not ${String(grace).slice(0, 32)}`,
      { op },
    );
  }
  const secret = newSecret();
  const webhook = await o.store.rotateWebhookSecret(hook.id, secret, grace * 1000);
  if (!webhook) throw new RegistryError(Code.NotFound, `webhook ${hook.id} does not exist`, { op });
  await o.audit?.record(principal, {
    action: "webhook.secret.rotate",
    target: `webhook ${webhook.id}`,
    ...(webhook.owner ? { owner: webhook.owner } : {}),
    after: {
      graceSeconds: grace,
      ...(webhook.previousSecretUntil ? { previousSecretUntil: webhook.previousSecretUntil } : {}),
    },
  });
  return { webhook, secret };
}

export function createWebhookService(o: WebhookServiceOptions): WebhookService {
  return {
    create: (principal, input) => createWebhook(o, principal, input),

    async list(principal, owner) {
      const name = owner ? checkName("owner", owner) : undefined;
      await requireManager(o, principal, name, "listing webhooks");
      return o.store.listWebhooks(name ?? null);
    },

    async delete(principal, id) {
      const hook = await managed(o, principal, id, "deleting a webhook");
      await o.store.deleteWebhook(hook.id);
      await o.audit?.record(principal, {
        action: "webhook.delete",
        target: `webhook ${hook.id}`,
        ...(hook.owner ? { owner: hook.owner } : {}),
        before: { url: hook.url },
      });
    },

    rotateSecret: (principal, id, graceSeconds) => rotateSecret(o, principal, id, graceSeconds),

    async deliveries(principal, id, limit) {
      const hook = await managed(o, principal, id, "listing webhook deliveries");
      const n = Math.min(maxDeliveriesPage, Math.max(1, limit || 50));
      return o.store.listWebhookDeliveries(hook.id, n);
    },

    async redeliver(principal, deliveryId) {
      const op = "redelivering a webhook event";
      const missing = new RegistryError(Code.NotFound, `delivery ${deliveryId.slice(0, 64)} does not exist`, {
        op,
      });
      const old = deliveryId.length <= 64 ? await o.store.getWebhookDelivery(deliveryId) : undefined;
      if (!old) throw missing;
      await managed(o, principal, old.webhookId, op);
      const again = await o.store.redeliverWebhook(deliveryId);
      if (!again) throw missing;
      return again;
    },
  };
}
