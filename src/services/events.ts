// Events (docs/webhooks.md): what changed, as webhook subscribers receive it. `emit` writes the event to the
// outbox (the deliveries table): inside the change's transaction when given `tx`, so the event commits with the
// change or not at all; else right after it, where a failed write is logged and never fails the change. A
// background dispatcher (webhook-dispatcher.ts) sends them.
import { randomBytes } from "node:crypto";
import type { MetadataStores, WebhookStore } from "../storage/meta/metadata-store.js";
import type { AuditChange, AuditTrail } from "./audit.js";
import type { Principal } from "./auth.js";

export const eventKinds = [
  "commit.pushed",
  "label.moved",
  "visibility.changed",
  "deprecated",
  "plugin.version.pushed",
  "template.version.created",
  "artifact.generated",
  "artifact.failed",
] as const;

export type EventKind = (typeof eventKinds)[number];

export const isEventKind = (kind: string): kind is EventKind =>
  (eventKinds as readonly string[]).includes(kind);

export interface EventPayload {
  /** Whose thing changed: that owner's subscriptions get the event (and the server-wide ones). */
  owner?: string;
  /** Who made the change; absent for the server's own work (a generation). */
  actor?: string;
  /** `acme/payments`, `acme/payments:main`, `acme/go:v1.2.0`, … */
  target: string;
  /** Plain data of the kind (docs/webhooks.md lists it). */
  data: Record<string, unknown>;
}

export interface Events {
  /**
   * Writes one event to the outbox. With `tx` it joins that transaction (and its failure fails the change);
   * without, it is written at once and a failure is only logged.
   */
  emit(
    kind: EventKind,
    payload: EventPayload,
    tx?: Pick<MetadataStores, "enqueueWebhookEvent">,
  ): Promise<void>;
}

export interface EventsOptions {
  store: Pick<WebhookStore, "enqueueWebhookEvent">;
  log: { error(fields: object, message: string): void };
  /** Told after an event was written (or will be, at its transaction's commit): the dispatcher looks sooner. */
  onEmitted?(): void;
  now?: () => number;
}

/** The body every delivery of the event sends. */
export function eventBody(id: string, kind: EventKind, at: string, payload: EventPayload): string {
  return JSON.stringify({
    id,
    kind,
    time: at,
    ...(payload.owner ? { owner: payload.owner } : {}),
    ...(payload.actor ? { actor: payload.actor } : {}),
    target: payload.target,
    data: payload.data,
  });
}

export function createEvents(opts: EventsOptions): Events {
  const now = opts.now ?? Date.now;
  return {
    async emit(kind, payload, tx) {
      const id = randomBytes(12).toString("hex");
      const at = new Date(now()).toISOString();
      const event = {
        id,
        kind,
        ...(payload.owner ? { owner: payload.owner } : {}),
        body: eventBody(id, kind, at, payload),
        at,
      };
      if (tx) {
        await tx.enqueueWebhookEvent(event);
      } else {
        try {
          await opts.store.enqueueWebhookEvent(event);
        } catch (err) {
          opts.log.error({ err, event }, "webhook event not recorded");
          return;
        }
      }
      opts.onEmitted?.();
    },
  };
}

/** The event an audited change is, when it is one subscribers hear of. */
export function eventOfChange(change: AuditChange): EventKind | undefined {
  switch (change.action) {
    case "label.create":
    case "label.move":
      return "label.moved";
    case "module.visibility":
    case "plugin.visibility":
    case "template.visibility":
      return "visibility.changed";
    case "module.deprecate":
      return "deprecated";
    case "plugin.version.create":
      return "plugin.version.pushed";
    case "template.version.create":
      return "template.version.created";
    default:
      return undefined;
  }
}

/**
 * The audit trail, also emitting the event of every change it records after the change (labels, visibility,
 * deprecation, plugin and template versions): the services that audit a change need no second call. Pushes emit
 * in their own transaction (services/modules/push.ts), where `event` is used instead of `record`.
 */
export function withEvents(trail: AuditTrail, events: Events): AuditTrail {
  return {
    ...trail,
    async record(principal: Principal, change: AuditChange) {
      await trail.record(principal, change);
      const kind = eventOfChange(change);
      if (!kind) return;
      await events.emit(kind, {
        ...(change.owner ? { owner: change.owner } : {}),
        ...(principal.user ? { actor: principal.user.name } : {}),
        target: change.target,
        data: {
          ...(change.before !== undefined ? { before: change.before } : {}),
          ...(change.after !== undefined ? { after: change.after } : {}),
        },
      });
    },
  };
}
