// `protodepot webhook create|list|delete|rotate-secret|deliveries|redeliver`: an owner's webhook subscriptions (docs/webhooks.md).
import { WebhookService } from "../../gen/protodepot/v1/webhook_pb.js";
import { openRemote, type RemoteOptions } from "../client.js";
import type { CliCommand } from "../command.js";
import { printTable } from "../output.js";

interface CreateFlags extends RemoteOptions {
  owner?: string;
  url: string;
  events?: string;
}

interface ListFlags extends RemoteOptions {
  owner?: string;
  json?: boolean;
}

interface RotateFlags extends RemoteOptions {
  grace: string;
}

const graceUnits: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `24h`, `90m`, `7d`, `30s`, or `0`, in seconds. */
export function graceSecondsOf(text: string): number {
  if (text.trim() === "0") return 0;
  const m = /^([1-9][0-9]{0,6})([smhd])$/.exec(text.trim());
  if (!m)
    throw new Error(`--grace takes a duration such as 24h, 90m, 7d, 30s, or 0 (not "${text.slice(0, 32)}")`);
  return Number(m[1]) * (graceUnits[m[2] ?? "s"] ?? 1);
}

/** `webhook rotate-secret`: the new secret, shown once, and until when the old one still signs. */
async function rotateSecret(id: string, flags: RotateFlags): Promise<void> {
  const graceSeconds = graceSecondsOf(flags.grace);
  const remote = await openRemote(flags);
  const { webhook: hook, secret } = await remote
    .client(WebhookService)
    .rotateWebhookSecret({ id, graceSeconds });
  process.stdout.write(`rotated the secret of webhook ${hook?.id} → ${hook?.url}\n`);
  process.stdout.write(`secret (shown once; receivers verify Protodepot-Signature with it): ${secret}\n`);
  process.stdout.write(
    hook?.previousSecretExpireTime
      ? `the old secret signs too (a second v1) until ${hook.previousSecretExpireTime}\n`
      : "the old secret no longer signs\n",
  );
}

interface DeliveryFlags extends RemoteOptions {
  limit: string;
  json?: boolean;
}

/** `webhook list`: a table, or one JSON object per line. */
async function listWebhooks(flags: ListFlags): Promise<void> {
  const remote = await openRemote(flags);
  const { webhooks } = await remote.client(WebhookService).listWebhooks({ owner: flags.owner ?? "" });
  if (flags.json) {
    for (const w of webhooks) {
      const { id, owner, url, events, createdBy, createTime, secretRotateTime, previousSecretExpireTime } = w;
      const line = {
        id,
        owner,
        url,
        events,
        createdBy,
        createTime,
        secretRotateTime,
        previousSecretExpireTime,
      };
      process.stdout.write(`${JSON.stringify(line)}\n`);
    }
    return;
  }
  const now = new Date().toISOString();
  printTable([
    ["ID", "OWNER", "EVENTS", "URL", "CREATED BY", "OLD SECRET SIGNS UNTIL"],
    ...webhooks.map((w) => [
      w.id,
      w.owner || "(server)",
      w.events.join(","),
      w.url,
      w.createdBy,
      w.previousSecretExpireTime > now ? w.previousSecretExpireTime : "-",
    ]),
  ]);
}

/** `webhook deliveries`: a table, or one JSON object per line. */
async function listDeliveries(id: string, flags: DeliveryFlags): Promise<void> {
  const remote = await openRemote(flags);
  const { deliveries } = await remote
    .client(WebhookService)
    .listWebhookDeliveries({ webhookId: id, limit: Number(flags.limit) || 0 });
  if (flags.json) {
    for (const d of deliveries) {
      const { id: did, eventId, kind, state, attempts, lastStatus, lastError, lastLatencyMs } = d;
      const line = { id: did, eventId, kind, state, attempts, lastStatus, lastError, lastLatencyMs };
      process.stdout.write(`${JSON.stringify({ ...line, createTime: d.createTime, body: d.body })}\n`);
    }
    return;
  }
  printTable([
    ["ID", "KIND", "STATE", "ATTEMPTS", "STATUS", "LATENCY", "ERROR"],
    ...deliveries.map((d) => [
      d.id,
      d.kind,
      d.state,
      String(d.attempts),
      d.lastStatus ? String(d.lastStatus) : "-",
      d.attempts ? `${d.lastLatencyMs} ms` : "-",
      d.lastError,
    ]),
  ]);
}

export function registerWebhooks(program: CliCommand): void {
  const webhook = program.command("webhook").description("manage webhooks: events POSTed to a URL, signed");
  webhook
    .command("create")
    .description("subscribe a URL to an owner's events (admins: omit --owner for every event of the server)")
    .option("--owner <owner>", "the organization (or user) whose events to send")
    .requiredOption("--url <url>", "where to POST them (http:// or https://)")
    .option("--events <kinds>", "comma-separated kinds, e.g. commit.pushed,label.moved (default: all)")
    .remoteFlags()
    .action(async (flags: CreateFlags) => {
      const remote = await openRemote(flags);
      const { webhook: hook, secret } = await remote.client(WebhookService).createWebhook({
        owner: flags.owner ?? "",
        url: flags.url,
        events: (flags.events ?? "").split(",").filter(Boolean),
      });
      process.stdout.write(`created webhook ${hook?.id} for ${hook?.events.join(",")} → ${hook?.url}\n`);
      process.stdout.write(`secret (shown once; receivers verify Protodepot-Signature with it): ${secret}\n`);
    });
  webhook
    .command("list")
    .description("list an owner's webhooks (admins: omit --owner for the server-wide ones)")
    .option("--owner <owner>", "the organization (or user)")
    .option("--json", "one JSON object per line")
    .remoteFlags()
    .action((flags) => listWebhooks(flags));
  webhook
    .command("delete <id>")
    .description("delete a webhook and its deliveries")
    .remoteFlags()
    .action(async (id: string, flags: RemoteOptions) => {
      const remote = await openRemote(flags);
      await remote.client(WebhookService).deleteWebhook({ id });
      process.stdout.write(`deleted webhook ${id}\n`);
    });
  webhook
    .command("rotate-secret <id>")
    .description("replace a webhook's secret; the old one keeps signing beside it during the grace period")
    .option(
      "--grace <duration>",
      "how long the old secret still signs: 24h, 90m, 7d, 30s, or 0 for not at all",
      "24h",
    )
    .remoteFlags()
    .action((id: string, flags: RotateFlags) => rotateSecret(id, flags));
  webhook
    .command("deliveries <id>")
    .description("a webhook's deliveries, newest first: state, attempts, last status and latency")
    .option("--limit <n>", "at most this many (up to 200)", "50")
    .option("--json", "one JSON object per line")
    .remoteFlags()
    .action((id, flags) => listDeliveries(id, flags));
  webhook
    .command("redeliver <delivery-id>")
    .description("send a delivery's event again (as a new delivery)")
    .remoteFlags()
    .action(async (deliveryId: string, flags: RemoteOptions) => {
      const remote = await openRemote(flags);
      const { delivery } = await remote.client(WebhookService).redeliverWebhook({ deliveryId });
      process.stdout.write(`queued delivery ${delivery?.id} of event ${delivery?.eventId}\n`);
    });
}
