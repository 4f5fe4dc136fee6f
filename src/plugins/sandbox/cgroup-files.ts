// File operations shared by the cgroup v1 and v2 groups: counters, killing members, removing groups and leftovers.
import { readdirSync, readFileSync, rmdirSync } from "node:fs";
import { join } from "node:path";

/** Parents are named `protodepot-{pid}-{instance}`; those of servers that died without closing are removed. */
export const parentPattern = /^protodepot-(\d+)-\d+$/;

/** Parents left by servers that died without closing (their pid is gone) are removed once empty. */
export function removeStale(base: string) {
  for (const entry of readdirSync(base, { withFileTypes: true })) {
    const m = parentPattern.exec(entry.name);
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

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The value of `key` in a flat-keyed file (`pids.events`, `memory.events`, `memory.oom_control`), 0 when absent. */
export function counter(file: string, key: string): number {
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

/** SIGKILLs every member of a group; returns how many there were. */
export function killAll(group: string): number {
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
export async function removeGroup(group: string, kill: (group: string) => unknown = killAll): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    kill(group);
    // EBUSY while the last tasks are still exiting.
    if (tryRmdir(group)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function tryRmdir(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ENOENT";
  }
}
