// Per-run cgroups that bound processes and memory (tmpfs pages included): v2 (unified) or v1, detected at start.
import { chownSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { counter, killAll, removeGroup, removeStale, tryRmdir } from "./cgroup-files.js";
import { type CgroupLayout, readCgroupLayout } from "./cgroup-layout.js";
import { createCgroupsV2, type V2Controller } from "./cgroups-v2.js";

export interface RunLimits {
  memoryBytes: number;
  maxProcesses: number;
  /** v1 only: the user that joins the groups (writes its pid to `cgroup.procs`), when not root. */
  owner?: number;
}

/** What happened inside a run's groups, read before they are removed. */
export interface RunReport {
  /** The kernel killed a process for passing the memory limit (RAM, /tmp pages included). */
  oomKilled: boolean;
  /** A fork or clone was refused because the process limit was reached. */
  processLimitHit: boolean;
}

export interface RunGroup {
  /** `cgroup.procs` files a process writes its own pid to, before exec, to join the run's groups. */
  procsFiles: string[];
  /** Kills whatever is left in the groups, reports what happened, and removes them (in the background). */
  finish(): Promise<RunReport>;
}

export interface Cgroups {
  /** Why no hierarchy can be used (every one tried, each with its reason), or undefined when one can. */
  readonly missing: string | undefined;
  /** The hierarchy in use. */
  readonly version: "v1" | "v2" | undefined;
  create(limits: RunLimits): RunGroup;
  /** Removes this server's parent groups (on shutdown). */
  close(): void;
}

/** `auto` tries v2 first (where the kernel puts new features), then v1. */
export type CgroupMode = "auto" | "v1" | "v2";

export interface CgroupOptions {
  mode?: CgroupMode;
  /** Tests only: another process's layout than /proc/self's. */
  layout?: CgroupLayout;
  /** Tests only: the v2 controllers required (none exercises groups on a host whose controllers are bound to v1). */
  v2Controllers?: readonly V2Controller[];
}

/** Sandboxes created by this process (tests make several), each with its own parent groups. */
let instances = 0;
const v1Controllers = ["pids", "memory"] as const;

/**
 * Groups live under this process's own group, in `protodepot-{pid}-{instance}/run-{n}`: a server that runs inside a
 * limited group (a container, a CI job, a systemd service) keeps its plugins inside that limit instead of escaping it.
 */
export function createCgroups(opts: CgroupOptions = {}): Cgroups {
  const layout = opts.layout ?? readCgroupLayout();
  const instance = ++instances;
  const mode = opts.mode ?? "auto";
  const reasons: string[] = [];
  const attempts: [string, () => Cgroups][] = [];
  if (mode !== "v1") {
    attempts.push([
      "v2",
      () => {
        if (layout.v2 === undefined) throw new Error("no cgroup v2 hierarchy is mounted");
        return createCgroupsV2(layout.v2, instance, opts.v2Controllers);
      },
    ]);
  }
  if (mode !== "v2") attempts.push(["v1", () => createCgroupsV1(layout, instance)]);
  for (const [, attempt] of attempts) {
    try {
      return attempt();
    } catch (err) {
      reasons.push(err instanceof Error ? err.message : String(err));
    }
  }
  return {
    missing: reasons.join("; "),
    version: undefined,
    create: () => ({ procsFiles: [], finish: async () => noReport }),
    close() {},
  };
}

function createCgroupsV1(layout: CgroupLayout, instance: number): Cgroups {
  const parents = new Map<string, string>();
  try {
    for (const c of v1Controllers) {
      const base = layout.v1.get(c);
      if (base === undefined || !existsSync(join(base, "cgroup.procs"))) {
        throw new Error(`cgroup v1 ${c} controller is not mounted`);
      }
      removeStale(base);
      const parent = join(base, `protodepot-${process.pid}-${instance}`);
      mkdirSync(parent, { recursive: true });
      parents.set(c, parent);
    }
  } catch (err) {
    for (const p of parents.values()) tryRmdir(p);
    throw err;
  }
  let next = 0;

  return {
    missing: undefined,
    version: "v1",
    create(limits) {
      const name = `run-${++next}`;
      const pids = join(parents.get("pids") ?? "", name);
      const memory = join(parents.get("memory") ?? "", name);
      mkdirSync(pids);
      mkdirSync(memory);
      writeFileSync(join(pids, "pids.max"), String(limits.maxProcesses));
      writeFileSync(join(memory, "memory.limit_in_bytes"), String(limits.memoryBytes));
      // Without swap accounting the file is absent; with it, swapping out must not lift the limit.
      const memsw = join(memory, "memory.memsw.limit_in_bytes");
      if (existsSync(memsw)) writeFileSync(memsw, String(limits.memoryBytes));
      const procsFiles = [join(pids, "cgroup.procs"), join(memory, "cgroup.procs")];
      // Only the membership file: the limits stay root's. The sandbox mounts no /sys, so the plugin never sees it.
      if (limits.owner !== undefined) for (const f of procsFiles) chownSync(f, limits.owner, limits.owner);
      return {
        procsFiles,
        async finish() {
          const report = {
            oomKilled: counter(join(memory, "memory.oom_control"), "oom_kill") > 0,
            processLimitHit: counter(join(pids, "pids.events"), "max") > 0,
          };
          killAll(pids);
          // The kernel frees a group only once its last task is reaped: remove them without holding up the answer.
          void removeGroup(pids).then(() => removeGroup(memory));
          return report;
        },
      };
    },
    close() {
      for (const p of parents.values()) tryRmdir(p);
    },
  };
}

const noReport: RunReport = { oomKilled: false, processLimitHit: false };
