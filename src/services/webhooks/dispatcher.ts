// The background sender of webhook deliveries (docs/webhooks.md). Every node runs one: it claims due deliveries
// from the outbox (the store gives each to one node at a time), sends them, and records each attempt; a failure
// (non-2xx, no answer within the deadline, a refused target) is retried with exponential backoff until
// webhooks.maxAttempts. Nothing here runs in a request: a slow or hanging receiver delays only its own deliveries.
import type { ClaimedDelivery, DeliveryOutcome, WebhookStore } from "../../storage/meta/metadata-store.js";
import type { DeliveryRequest } from "./send.js";

export interface DispatcherOptions {
  store: Pick<WebhookStore, "claimWebhookDeliveries" | "finishWebhookDelivery" | "pruneWebhookDeliveries">;
  /** Unique per process, like a lease holder. */
  holder: string;
  send(d: DeliveryRequest): Promise<Omit<DeliveryOutcome, "retryInMs">>;
  /** The deadline of one attempt; a claim lasts well past it, so a live node always finishes first. */
  timeoutMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  pollMs: number;
  concurrency: number;
  /** Finished deliveries are removed after this many days (at most once an hour); 0 keeps them. */
  retentionDays: number;
  log: { warn(fields: object, message: string): void };
}

export interface WebhookDispatcher {
  /** Looks for due deliveries soon (after a change of this node). */
  wake(): void;
  /** Stops looking and waits for the attempts in flight. */
  close(): Promise<void>;
}

/** The wait before attempt `attempts + 1`, or undefined when `attempts` were the last. */
export function retryDelay(
  attempts: number,
  o: Pick<DispatcherOptions, "maxAttempts" | "retryBaseMs" | "retryMaxMs">,
): number | undefined {
  if (attempts >= o.maxAttempts) return undefined;
  return Math.min(o.retryMaxMs, o.retryBaseMs * 2 ** Math.max(0, attempts - 1));
}

/** Sends one claimed delivery and records how it went; true when a retry is due at once. */
async function attemptDelivery(o: DispatcherOptions, d: ClaimedDelivery): Promise<boolean> {
  const sent = await o.send({
    url: d.url,
    secret: d.secret,
    ...(d.previousSecret !== undefined ? { previousSecret: d.previousSecret } : {}),
    body: d.body,
    deliveryId: d.id,
    eventId: d.eventId,
    kind: d.kind,
  });
  const retryInMs = sent.ok ? undefined : retryDelay(d.attempts, o);
  const outcome: DeliveryOutcome = { ...sent, ...(retryInMs !== undefined ? { retryInMs } : {}) };
  const kept = await o.store.finishWebhookDelivery(d.id, o.holder, outcome);
  if (!kept) o.log.warn({ delivery: d.id }, "webhook delivery claim lost before its attempt was recorded");
  return !sent.ok && retryInMs === 0;
}

/** Removes finished deliveries past the retention, at most once an hour; answers when it last did. */
function pruneDeliveries(o: DispatcherOptions, prunedAt: number): number {
  const at = Date.now();
  if (o.retentionDays <= 0 || at - prunedAt < 3_600_000) return prunedAt;
  const before = new Date(at - o.retentionDays * 86_400_000).toISOString();
  o.store.pruneWebhookDeliveries(before).catch((err: unknown) => {
    o.log.warn({ err }, "old webhook deliveries not removed");
  });
  return at;
}

export function startWebhookDispatcher(o: DispatcherOptions): WebhookDispatcher {
  const leaseMs = o.timeoutMs * 2 + 5000;
  const inFlight = new Set<Promise<void>>();
  let timer: NodeJS.Timeout | undefined;
  let looking: Promise<void> | undefined;
  let again = false;
  let closed = false;

  const attempt = async (d: ClaimedDelivery): Promise<void> => {
    // A retry due at once, or room for more: look again.
    if (await attemptDelivery(o, d)) wake();
  };

  const look = async (): Promise<void> => {
    do {
      again = false;
      const room = o.concurrency - inFlight.size;
      if (room <= 0 || closed) return;
      const claimed = await o.store.claimWebhookDeliveries(o.holder, room, leaseMs);
      for (const d of claimed) {
        const p = attempt(d)
          .catch((err: unknown) =>
            o.log.warn({ err, delivery: d.id }, "webhook delivery attempt not recorded"),
          )
          .finally(() => {
            inFlight.delete(p);
            if (!closed) wake();
          });
        inFlight.add(p);
      }
      if (claimed.length === room) again = true;
    } while (again && !closed);
  };

  const wake = (): void => {
    if (closed) return;
    if (looking) {
      again = true;
      return;
    }
    looking = look()
      .catch((err: unknown) => o.log.warn({ err }, "webhook deliveries not claimed"))
      .finally(() => {
        looking = undefined;
        if (again && !closed) wake();
      });
  };

  let prunedAt = 0;

  const tick = (): void => {
    wake();
    prunedAt = pruneDeliveries(o, prunedAt);
    timer = setTimeout(tick, o.pollMs);
    timer.unref();
  };
  tick();

  return {
    wake,
    async close() {
      closed = true;
      clearTimeout(timer);
      await looking;
      await Promise.all([...inFlight]);
    },
  };
}
