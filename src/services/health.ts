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

export function createHealthCheck(opts: {
  meta: Pick<MetadataStore, "ping">;
  blobs: BlobStore;
  timeoutMs: number;
  log: HealthLog;
  sandbox?: SandboxHealthSource;
  storage?: StorageProbe;
}): HealthCheck {
  const storage = opts.storage;
  let probeSeq = 0;
  /** Writes and removes a small file in each directory, and checks its free space; returns what is degraded. */
  const probeStorage = async (): Promise<string[]> => {
    if (!storage) return [];
    const found = new Set<string>();
    await Promise.all(
      [...new Set(storage.dirs)].map(async (dir) => {
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
      }),
    );
    return [...found].sort();
  };
  const probes: [string, () => Promise<unknown>][] = [
    ["metadata store unreachable", () => opts.meta.ping()],
    ["blob store unreachable", () => opts.blobs.stat(probeKey)],
  ];
  return {
    async check() {
      const problems: string[] = [];
      const [degraded] = await Promise.all([
        probeStorage(),
        ...probes.map(async ([problem, probe]) => {
          try {
            await within(probe(), opts.timeoutMs);
          } catch (err) {
            opts.log.warn({ err }, problem);
            problems.push(problem);
          }
        }),
      ]);
      const sandbox = opts.sandbox?.status();
      return {
        ok: problems.length === 0,
        problems: problems.sort(),
        ...(degraded?.length ? { degraded } : {}),
        ...(sandbox ? { sandbox } : {}),
      };
    },
  };
}
