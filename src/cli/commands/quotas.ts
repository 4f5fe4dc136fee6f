// `protodepot quota get|set`: an owner's quotas of modules, commits per day, plugin image bytes and plugin images
// (services/quotas.ts).
import type { Quota } from "../../gen/protodepot/v1/quota_pb.js";
import { QuotaService } from "../../gen/protodepot/v1/quota_pb.js";
import { openRemote, type RemoteOptions } from "../client.js";
import type { CliCommand } from "../command.js";
import { formatBytes, printTable } from "../output.js";

interface QuotaFlags extends RemoteOptions {
  modules?: string;
  commitsPerDay?: string;
  imageBytes?: string;
  images?: string;
  json?: boolean;
}

/** A bound as the report has it, its numbers plain (image bytes come as 64-bit integers). */
interface Bound {
  limit: number;
  source: string;
  used: number;
}

/**
 * A bound as the flag gives it: a count, or bytes (0: unlimited), `default` (the server's), or unchanged when
 * absent.
 */
export function boundOf(
  flag: string,
  text: string | undefined,
  current: number | undefined,
  unit: "count" | "bytes" = "count",
): number | undefined {
  if (text === undefined) return current;
  if (text === "default") return undefined;
  // Below 2^53 either way: counts up to 10^9, bytes up to 10^15 (a petabyte).
  const pattern = unit === "bytes" ? /^(0|[1-9][0-9]{0,14})$/ : /^(0|[1-9][0-9]{0,8})$/;
  if (!pattern.test(text)) {
    const what = unit === "bytes" ? "a number of bytes" : "a count";
    throw new Error(`invalid ${flag} "${text}": use ${what} (0 for unlimited) or "default"`);
  }
  return Number(text);
}

/** The report's bounds in the order they are shown, by their JSON name. */
function boundsOf(quota: Quota): [name: string, key: string, bound: Bound, bytes: boolean][] {
  const plain = (
    b: { limit: number | bigint; source: string; used: number | bigint } | undefined,
  ): Bound => ({
    limit: Number(b?.limit ?? 0),
    source: b?.source ?? "",
    used: Number(b?.used ?? 0),
  });
  return [
    ["modules", "modules", plain(quota.modules), false],
    ["commits per day", "commitsPerDay", plain(quota.commitsPerDay), false],
    ["plugin image bytes", "imageBytes", plain(quota.imageBytes), true],
    ["plugin images", "images", plain(quota.images), false],
  ];
}

function print(quota: Quota | undefined, json: boolean | undefined): void {
  if (!quota) return;
  const bounds = boundsOf(quota);
  if (json) {
    const entries = bounds.map(([, key, bound]) => [key, bound]);
    process.stdout.write(`${JSON.stringify({ owner: quota.owner, ...Object.fromEntries(entries) })}\n`);
    return;
  }
  const shown = (n: number, bytes: boolean) => (bytes ? `${formatBytes(n)} (${n})` : String(n));
  printTable([
    ["QUOTA", "USED", "LIMIT", "FROM"],
    ...bounds.map(([name, , b, bytes]) => [
      name,
      shown(b.used, bytes),
      b.limit ? shown(b.limit, bytes) : "unlimited",
      b.source,
    ]),
  ]);
}

/** The owner's own bounds after the flags: those left out stay as they are, `default` drops one. */
function wanted(now: Quota | undefined, flags: QuotaFlags) {
  const own = (b: { limit: number | bigint; source: string } | undefined) =>
    b?.source === "owner" ? Number(b.limit) : undefined;
  const modules = boundOf("--modules", flags.modules, own(now?.modules));
  const commitsPerDay = boundOf("--commits-per-day", flags.commitsPerDay, own(now?.commitsPerDay));
  const imageBytes = boundOf("--image-bytes", flags.imageBytes, own(now?.imageBytes), "bytes");
  const images = boundOf("--images", flags.images, own(now?.images));
  return {
    ...(modules !== undefined ? { modules } : {}),
    ...(commitsPerDay !== undefined ? { commitsPerDay } : {}),
    ...(imageBytes !== undefined ? { imageBytes: BigInt(imageBytes) } : {}),
    ...(images !== undefined ? { images } : {}),
  };
}

export function registerQuotas(program: CliCommand): void {
  const quota = program
    .command("quota")
    .description("show or set an owner's quotas of modules, commits and plugin images");
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
    .option("--image-bytes <n>", 'bytes its plugin images may hold: a number of bytes, 0, or "default"')
    .option("--images <n>", 'plugin images (pushed tags) it may hold: a count, 0, or "default"')
    .option("--json", "as one JSON object")
    .remoteFlags()
    .action(async (owner: string, flags: QuotaFlags) => {
      const remote = await openRemote(flags);
      const client = remote.client(QuotaService);
      const { quota: now } = await client.getQuota({ owner });
      const { quota: set } = await client.setQuota({ owner, ...wanted(now, flags) });
      print(set, flags.json);
    });
}
