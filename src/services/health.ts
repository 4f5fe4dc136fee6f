// Readiness of this node: can it reach the stores every request needs? What a load balancer's health check asks.
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
}

export interface SandboxHealth {
  limits: string;
  pushedPlugins: string;
}

/** The sandbox as health sees it (src/plugins/sandbox/sandbox.ts). */
export interface SandboxHealthSource {
  status(): SandboxHealth;
}

export interface HealthCheck {
  check(): Promise<HealthReport>;
}

export interface HealthLog {
  warn(fields: object, message: string): void;
}

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
  meta: MetadataStore;
  blobs: BlobStore;
  timeoutMs: number;
  log: HealthLog;
  sandbox?: SandboxHealthSource;
}): HealthCheck {
  const probes: [string, () => Promise<unknown>][] = [
    ["metadata store unreachable", () => opts.meta.ping()],
    ["blob store unreachable", () => opts.blobs.stat(probeKey)],
  ];
  return {
    async check() {
      const problems: string[] = [];
      await Promise.all(
        probes.map(async ([problem, probe]) => {
          try {
            await within(probe(), opts.timeoutMs);
          } catch (err) {
            opts.log.warn({ err }, problem);
            problems.push(problem);
          }
        }),
      );
      const sandbox = opts.sandbox?.status();
      return { ok: problems.length === 0, problems: problems.sort(), ...(sandbox ? { sandbox } : {}) };
    },
  };
}
