// `protodepot audit list`: the audit log (admins: all of it; organization owners: their organization's).
import { AuditService } from "../../gen/protodepot/v1/audit_pb.js";
import { openRemote, type RemoteOptions } from "../client.js";
import type { CliCommand } from "../command.js";
import { printTable } from "../output.js";
import { expiryOf } from "./users.js";

const units: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `7d`, `12h`, `90m` ago, or an RFC 3339 instant, as an RFC 3339 instant. */
export function sinceOf(text: string, now = Date.now()): string {
  const m = /^([1-9][0-9]{0,5})([mhd])$/.exec(text);
  if (m) return new Date(now - Number(m[1]) * (units[m[2] ?? "d"] ?? 0)).toISOString();
  return expiryOf(text, now);
}

interface AuditFlags extends RemoteOptions {
  since?: string;
  actor?: string;
  owner?: string;
  action?: string;
  limit: string;
  json?: boolean;
}

export function registerAudit(program: CliCommand): void {
  const audit = program.command("audit").description("read the audit log");
  audit
    .command("list")
    .description("list audit events, newest first (admins: all; organization owners: pass --owner ORG)")
    .option("--since <when>", "events since: 7d, 12h, 90m ago, or an RFC 3339 instant")
    .option("--actor <user>", "events of one user or bot")
    .option("--owner <owner>", "events of one owner's things (required unless you are an admin)")
    .option("--action <action>", "one kind of event, e.g. token.create or auth.failed")
    .option("--limit <n>", "at most this many events (up to 1000)", "100")
    .option("--json", "one JSON object per line")
    .remoteFlags()
    .action(async (flags: AuditFlags) => {
      const remote = await openRemote(flags);
      const { events } = await remote.client(AuditService).listAuditEvents({
        since: flags.since ? sinceOf(flags.since) : "",
        actor: flags.actor ?? "",
        owner: flags.owner ?? "",
        action: flags.action ?? "",
        limit: Number(flags.limit) || 0,
      });
      if (flags.json) {
        for (const e of events) {
          process.stdout.write(
            `${JSON.stringify({
              id: e.id,
              time: e.time,
              action: e.action,
              actor: e.actor,
              tokenId: e.tokenId,
              bot: e.bot,
              owner: e.owner,
              target: e.target,
              before: e.before,
              after: e.after,
              clientAddress: e.clientAddress,
              userAgent: e.userAgent,
              requestId: e.requestId,
              count: e.count,
            })}\n`,
          );
        }
        return;
      }
      printTable([
        ["TIME", "ACTOR", "ACTION", "TARGET", "FROM", "REQUEST"],
        ...events.map((e) => [
          e.time,
          `${e.actor || "-"}${e.bot ? " (bot)" : ""}`,
          e.count > 1 ? `${e.action} ×${e.count}` : e.action,
          e.target,
          e.clientAddress,
          e.requestId,
        ]),
      ]);
    });
}
