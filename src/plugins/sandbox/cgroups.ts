// Per-run cgroup v1 `pids` and `memory` groups: a process limit, and a memory limit that counts tmpfs pages.
import {
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";

export interface RunLimits {
  memoryBytes: number;
  maxProcesses: number;
  /** The user that joins the groups (writes its pid to `cgroup.procs`), when not root. */
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
  /** Which controllers this process can use: both, or the reason they are missing. */
  readonly missing: string | undefined;
  create(limits: RunLimits): RunGroup;
  /** Removes this server's parent groups (on shutdown). */
  close(): void;
}

const root = "/sys/fs/cgroup";
/** Sandboxes created by this process (tests make several), each with its own parent groups. */
let instances = 0;
const controllers = ["pids", "memory"] as const;
type Controller = (typeof controllers)[number];

/**
 * Groups live under this process's own group of each controller, in `protodepot-{pid}-{instance}/run-{n}`: a server that runs
 * inside a limited group (a container, a CI job) keeps its plugins inside that limit instead of escaping it.
 */
export function createCgroups(): Cgroups {
  const parents = new Map<Controller, string>();
  const instance = ++instances;
  let missing: string | undefined;
  try {
    const own = ownGroups();
    for (const c of controllers) {
      const base = join(root, c, own.get(c) ?? "/");
      if (!existsSync(join(base, "cgroup.procs")))
        throw new Error(`cgroup v1 ${c} controller is not mounted at ${join(root, c)}`);
      removeStale(base);
      const parent = join(base, `protodepot-${process.pid}-${instance}`);
      mkdirSync(parent, { recursive: true });
      parents.set(c, parent);
    }
  } catch (err) {
    missing = err instanceof Error ? err.message : String(err);
    for (const p of parents.values()) tryRmdir(p);
    parents.clear();
  }
  let next = 0;

  return {
    missing,
    create(limits) {
      if (missing !== undefined) return { procsFiles: [], finish: async () => noReport };
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

/** `4:memory:/process_api/abc` → memory → /process_api/abc. */
function ownGroups(): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of readFileSync("/proc/self/cgroup", "utf8").split("\n")) {
    const [, names, path] = line.split(":");
    if (!names || path === undefined) continue;
    for (const n of names.split(",")) out.set(n, path);
  }
  return out;
}

/** Parents left by servers that died without closing (their pid is gone) are removed once empty. */
function removeStale(base: string) {
  for (const entry of readdirSync(base, { withFileTypes: true })) {
    const m = /^protodepot-(\d+)-\d+$/.exec(entry.name);
    if (!entry.isDirectory() || !m || isAlive(Number(m[1]))) continue;
    const dir = join(base, entry.name);
    for (const run of readdirSync(dir, { withFileTypes: true })) {
      if (run.isDirectory()) killAll(join(dir, run.name));
    }
    for (const run of readdirSync(dir, { withFileTypes: true })) {
      if (run.isDirectory()) tryRmdir(join(dir, run.name));
    }
    tryRmdir(dir);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function counter(file: string, key: string): number {
  try {
    for (const line of readFileSync(file, "utf8").split("\n")) {
      const [k, v] = line.trim().split(/\s+/);
      if (k === key) return Number(v) || 0;
    }
  } catch {
    // The group is gone or the kernel lacks the counter: nothing to report.
  }
  return 0;
}

function killAll(group: string): number {
  let pids: number[] = [];
  try {
    pids = readFileSync(join(group, "cgroup.procs"), "utf8").split("\n").filter(Boolean).map(Number);
  } catch {
    return 0;
  }
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  return pids.length;
}

/**
 * The sandbox's pid namespace normally takes every process with it; whatever remains (a process between fork and
 * kill) is killed, and the group removed once the kernel has reaped it.
 */
async function removeGroup(group: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    killAll(group);
    // EBUSY while the last tasks are still exiting.
    if (tryRmdir(group)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

function tryRmdir(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ENOENT";
  }
}
