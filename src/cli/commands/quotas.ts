// `protodepot quota get|set`: an owner's quotas of modules and commits per day (services/quotas.ts).
import type { Quota } from "../../gen/protodepot/v1/quota_pb.js";
import { QuotaService } from "../../gen/protodepot/v1/quota_pb.js";
import { openRemote, type RemoteOptions } from "../client.js";
import type { CliCommand } from "../command.js";
import { printTable } from "../output.js";

interface QuotaFlags extends RemoteOptions {
  modules?: string;
  commitsPerDay?: string;
  json?: boolean;
}

/** A bound as the flag gives it: a count (0: unlimited), `default` (the server's), or unchanged when absent. */
export function boundOf(
  flag: string,
  text: string | undefined,
  current: number | undefined,
): number | undefined {
  if (text === undefined) return current;
  if (text === "default") return undefined;
  if (!/^(0|[1-9][0-9]{0,8})$/.test(text)) {
    throw new Error(`invalid ${flag} "${text}": use a count (0 for unlimited) or "default"`);
  }
  return Number(text);
}

function print(quota: Quota | undefined, json: boolean | undefined): void {
  if (!quota) return;
  const rows = [
    ["modules", quota.modules],
    ["commits per day", quota.commitsPerDay],
  ] as const;
  if (json) {
    const bound = (b: (typeof rows)[number][1]) => ({ limit: b?.limit, source: b?.source, used: b?.used });
    process.stdout.write(
      `${JSON.stringify({ owner: quota.owner, modules: bound(quota.modules), commitsPerDay: bound(quota.commitsPerDay) })}\n`,
    );
    return;
  }
  printTable([
    ["QUOTA", "USED", "LIMIT", "FROM"],
    ...rows.map(([name, b]) => [
      name,
      String(b?.used ?? 0),
      b?.limit ? String(b.limit) : "unlimited",
      b?.source ?? "",
    ]),
  ]);
}

export function registerQuotas(program: CliCommand): void {
  const quota = program.command("quota").description("show or set an owner's quotas of modules and commits");
  quota
    .command("get <owner>")
    .description("an owner's quotas and what is used of them (the owner, its members and admins)")
    .option("--json", "as one JSON object")
    .remoteFlags()
    .action(async (owner: string, flags: QuotaFlags) => {
      const remote = await openRemote(flags);
      const { quota: got } = await remote.client(QuotaService).getQuota({ owner });
      print(got, flags.json);
    });
  quota
    .command("set <owner>")
    .description("set an owner's own quotas (admins); flags left out stay as they are")
    .option("--modules <n>", 'modules the owner may have: a count, 0 for unlimited, or "default"')
    .option("--commits-per-day <n>", 'commits its modules may take in 24 hours: a count, 0, or "default"')
    .option("--json", "as one JSON object")
    .remoteFlags()
    .action(async (owner: string, flags: QuotaFlags) => {
      const remote = await openRemote(flags);
      const client = remote.client(QuotaService);
      const { quota: now } = await client.getQuota({ owner });
      const own = (b: Quota["modules"]) => (b?.source === "owner" ? b.limit : undefined);
      const modules = boundOf("--modules", flags.modules, own(now?.modules));
      const commitsPerDay = boundOf("--commits-per-day", flags.commitsPerDay, own(now?.commitsPerDay));
      const { quota: set } = await client.setQuota({
        owner,
        ...(modules !== undefined ? { modules } : {}),
        ...(commitsPerDay !== undefined ? { commitsPerDay } : {}),
      });
      print(set, flags.json);
    });
}
