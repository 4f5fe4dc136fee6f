// Readiness of this node: can it reach the stores every request needs? What a load balancer's health check asks.
import { statfs, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { isStorageFull } from "../core/errors.js";
import type { BlobStore } from "../storage/blob/blob-store.js";
import type { MetadataStore } from "../storage/meta/metadata-store.js";

export interface HealthReport {
  ok: boolean;
  /** What a stranger may read: which store failed, not why (the reason goes to the log). */
  problems: string[];
  /**
   * How plugin runs are bounded here (cgroup-v2, cgroup-v1, rlimits, none) and whether pushed plugins run. It does
   * not change `ok`: a node that refuses pushed plugins still serves everything else, so a load balancer keeps it.
   */
  sandbox?: SandboxHealth;
  /**
   * What still lets the node serve reads but not every write: `storage full` (a write probe failed for lack of
   * space), `storage not writable` (it failed otherwise), `low free space` (under health.minFreeBytes). Reads keep
   * flowing, so `ok` stays true (docs/deploy.md, "Full disks").
   */
  degraded?: string[];
}

export interface SandboxHealth {
  limits: string;
  pushedPlugins: string;
}

/** The sandbox as health sees it (src/plugins/sandbox/sandbox.ts). */
export interface SandboxHealthSource {
  status(): SandboxHealth;
}

/** The local directories a node writes to (dataDir, the sqlite file's, the fs blob root), probed by /healthz. */
export interface StorageProbe {
  dirs: readonly string[];
  /** Less free space than this in any of them is `low free space`; 0: not checked. */
  minFreeBytes: number;
}

export interface HealthCheck {
  check(): Promise<HealthReport>;
}

export interface HealthLog {
  warn(fields: object, message: string): void;
}

/** One page: enough to need a new block on any filesystem, small enough to cost nothing. */
const probeBytes = Buffer.alloc(4096);

// Any key will do: a missing one answers "absent" in one round trip, which is all a probe needs.
const probeKey = "healthz";

function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

export interface HealthCheckOptions {
  meta: Pick<MetadataStore, "ping">;
  blobs: Pick<BlobStore, "stat">;
  timeoutMs: number;
  log: HealthLog;
  sandbox?: SandboxHealthSource;
  storage?: StorageProbe;
  /**
   * How long a round of probes is answered before the next one runs (health.probeIntervalMs); 0: every check
   * probes. A round queues file operations on libuv's thread pool, where a busy node's pushes and generations
   * (gzip, hashing, blob writes) are queued too: answering the latest round keeps /healthz immediate whatever the
   * node is doing, and a stranger polling it cannot make the node write files at will.
   */
  probeIntervalMs?: number;
  now?: () => number;
}

type Readiness = Omit<HealthReport, "sandbox">;

let probeSeq = 0;

/** Writes and removes a small file in `dir`, and checks its free space; adds to `found` what is degraded. */
async function probeDir(dir: string, opts: HealthCheckOptions, storage: StorageProbe, found: Set<string>) {
  const file = join(dir, `.healthz-${process.pid}-${probeSeq++}`);
  try {
    await within(writeFile(file, probeBytes), opts.timeoutMs);
  } catch (err) {
    opts.log.warn({ err, dir }, "storage write probe failed");
    found.add(isStorageFull(err) ? "storage full" : "storage not writable");
  } finally {
    await unlink(file).catch(() => {});
  }
  if (storage.minFreeBytes <= 0) return;
  try {
    const fs = await within(statfs(dir), opts.timeoutMs);
    if (fs.bavail * fs.bsize < storage.minFreeBytes) found.add("low free space");
  } catch (err) {
    opts.log.warn({ err, dir }, "storage free space unknown");
  }
}

/** One round of probes: each store reachable, each local directory writable with room to spare. */
async function probeRound(opts: HealthCheckOptions): Promise<Readiness> {
  const { storage } = opts;
  const found = new Set<string>();
  const problems: string[] = [];
  const probes: [string, () => Promise<unknown>][] = [
    ["metadata store unreachable", () => opts.meta.ping()],
    ["blob store unreachable", () => opts.blobs.stat(probeKey)],
  ];
  await Promise.all([
    ...(storage ? [...new Set(storage.dirs)].map((dir) => probeDir(dir, opts, storage, found)) : []),
    ...probes.map(async ([problem, probe]) => {
      try {
        await within(probe(), opts.timeoutMs);
      } catch (err) {
        opts.log.warn({ err }, problem);
        problems.push(problem);
      }
    }),
  ]);
  const degraded = [...found].sort();
  return { ok: problems.length === 0, problems: problems.sort(), ...(degraded.length ? { degraded } : {}) };
}

export function createHealthCheck(opts: HealthCheckOptions): HealthCheck {
  const round = () => probeRound(opts);
  const intervalMs = opts.probeIntervalMs ?? 0;
  const now = opts.now ?? Date.now;
  let latest: { report: Readiness; at: number } | undefined;
  let running: Promise<Readiness> | undefined;
  const refresh = () => {
    const startedAt = now();
    running ??= round()
      .then((report) => {
        latest = { report, at: startedAt };
        return report;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  return {
    async check() {
      let answer: Readiness;
      if (intervalMs === 0 || latest === undefined) answer = await refresh();
      else {
        // The latest round answers; a stale one starts the next round in the background.
        answer = latest.report;
        if (now() - latest.at >= intervalMs) void refresh();
      }
      const sandbox = opts.sandbox?.status();
      return { ...answer, ...(sandbox ? { sandbox } : {}) };
    },
  };
}
