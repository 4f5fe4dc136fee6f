// WebhookService: subscriptions and their deliveries (who may manage what: services/webhooks.ts).
import type { ServiceImpl } from "@connectrpc/connect";
import type { Webhook, WebhookDelivery } from "../core/types.js";
import type { WebhookService } from "../gen/protodepot/v1/webhook_pb.js";
import type { WebhookService as Webhooks } from "../services/webhooks.js";
import { principal } from "./context.js";

const toWebhook = (w: Webhook) => ({
  id: w.id,
  owner: w.owner ?? "",
  url: w.url,
  events: w.events,
  createdBy: w.createdBy,
  createTime: w.createdAt,
  secretRotateTime: w.secretRotatedAt ?? "",
  previousSecretExpireTime: w.previousSecretUntil ?? "",
});

const toDelivery = (d: WebhookDelivery) => ({
  id: d.id,
  webhookId: d.webhookId,
  eventId: d.eventId,
  kind: d.kind,
  state: d.state,
  attempts: d.attempts,
  lastStatus: d.lastStatus ?? 0,
  lastError: d.lastError ?? "",
  lastLatencyMs: d.lastLatencyMs ?? 0,
  createTime: d.createdAt,
  finishTime: d.finishedAt ?? "",
  body: d.body,
});

export function createWebhookServiceImpl(webhooks: Webhooks): ServiceImpl<typeof WebhookService> {
  return {
    async createWebhook(req, ctx) {
      const { webhook, secret } = await webhooks.create(await principal(ctx), {
        ...(req.owner ? { owner: req.owner } : {}),
        url: req.url,
        events: req.events,
      });
      return { webhook: toWebhook(webhook), secret };
    },
    async listWebhooks(req, ctx) {
      const list = await webhooks.list(await principal(ctx), req.owner || undefined);
      return { webhooks: list.map(toWebhook) };
    },
    async deleteWebhook(req, ctx) {
      await webhooks.delete(await principal(ctx), req.id);
      return {};
    },
    async rotateWebhookSecret(req, ctx) {
      const { webhook, secret } = await webhooks.rotateSecret(await principal(ctx), req.id, req.graceSeconds);
      return { webhook: toWebhook(webhook), secret };
    },
    async listWebhookDeliveries(req, ctx) {
      const list = await webhooks.deliveries(await principal(ctx), req.webhookId, req.limit);
      return { deliveries: list.map(toDelivery) };
    },
    async redeliverWebhook(req, ctx) {
      return { delivery: toDelivery(await webhooks.redeliver(await principal(ctx), req.deliveryId)) };
    },
  };
}
