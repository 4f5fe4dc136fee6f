// Per-run cgroup v2 groups: `pids.max`, and `memory.max` (tmpfs pages are charged as shmem) with no swap.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { counter, killAll, removeGroup, removeStale, tryRmdir } from "./cgroup-files.js";
import type { Cgroups, RunGroup } from "./cgroups.js";

export type V2Controller = "pids" | "memory";

/** Where this server's processes move when its own group must hand its controllers down (no internal processes). */
const leafName = "protodepot-server";

const read = (file: string) => readFileSync(file, "utf8").trim();
const words = (file: string) => new Set(read(file).split(/\s+/).filter(Boolean));

/**
 * Throws a sentence naming what is missing when `base` (this process's own group) cannot give per-run groups the
 * controllers: they must be listed in its `cgroup.controllers` (delegated to it, not bound to a v1 hierarchy).
 */
function checkDelegated(base: string, need: readonly V2Controller[]) {
  if (!existsSync(join(base, "cgroup.procs")))
    throw new Error(`no cgroup v2 hierarchy is mounted at ${base}`);
  const available = words(join(base, "cgroup.controllers"));
  const lacking = need.filter((c) => !available.has(c));
  if (lacking.length) {
    throw new Error(
      `cgroup v2 controllers ${lacking.join(", ")} are not available in ${base} ` +
        `(cgroup.controllers: ${[...available].join(" ") || "none"}): they are bound to cgroup v1, or not ` +
        "delegated to this service (systemd: Delegate=yes)",
    );
  }
}

/**
 * Enables the controllers in `base`'s `cgroup.subtree_control`. A non-root group with processes cannot (the kernel
 * answers EBUSY: no internal processes), so its processes, this server's included, first move into a leaf beside
 * the run groups, as systemd asks of a service that manages its delegated subtree.
 */
function enableBelow(base: string, need: readonly V2Controller[]) {
  const control = join(base, "cgroup.subtree_control");
  const missing = need.filter((c) => !words(control).has(c));
  if (!missing.length) return;
  const enable = () => writeFileSync(control, missing.map((c) => `+${c}`).join(" "));
  try {
    enable();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EBUSY") throw err;
    const leaf = join(base, leafName);
    mkdirSync(leaf, { recursive: true });
    for (const pid of read(join(base, "cgroup.procs")).split("\n").filter(Boolean)) {
      try {
        writeFileSync(join(leaf, "cgroup.procs"), pid);
      } catch {
        // Exited meanwhile, or a kernel thread that cannot move: the retry below says whether it matters.
      }
    }
    enable();
  }
}

/** Cgroups on the unified hierarchy, in `{base}/protodepot-{pid}-{instance}/run-{n}`. Throws when unusable. */
export function createCgroupsV2(
  own: string,
  instance: number,
  need: readonly V2Controller[] = ["pids", "memory"],
): Cgroups {
  // Once moved into the leaf (by an earlier sandbox of this process, or another worker), the delegated group is above.
  const base = basename(own) === leafName ? dirname(own) : own;
  checkDelegated(base, need);
  removeStale(base);
  enableBelow(base, need);
  const parent = join(base, `protodepot-${process.pid}-${instance}`);
  mkdirSync(parent, { recursive: true });
  try {
    if (need.length)
      writeFileSync(join(parent, "cgroup.subtree_control"), need.map((c) => `+${c}`).join(" "));
  } catch (err) {
    tryRmdir(parent);
    throw err;
  }
  let next = 0;
  return {
    missing: undefined,
    version: "v2",
    create(limits): RunGroup {
      const run = join(parent, `run-${++next}`);
      mkdirSync(run);
      if (need.includes("pids")) writeFileSync(join(run, "pids.max"), String(limits.maxProcesses));
      if (need.includes("memory")) {
        writeFileSync(join(run, "memory.max"), String(limits.memoryBytes));
        // Swapped-out pages are not counted by memory.max: no swap at all, so the limit is the run's whole footprint.
        writeOptional(join(run, "memory.swap.max"), "0");
        // One process over the limit takes the whole run with it, rather than leaving a half-dead plugin.
        writeOptional(join(run, "memory.oom.group"), "1");
      }
      return {
        procsFiles: [join(run, "cgroup.procs")],
        async finish() {
          const report = {
            oomKilled: counter(join(run, "memory.events"), "oom_kill") > 0,
            processLimitHit: counter(join(run, "pids.events"), "max") > 0,
          };
          killGroup(run);
          void removeGroup(run, killGroup);
          return report;
        },
      };
    },
    close() {
      tryRmdir(parent);
    },
  };
}

/** `cgroup.kill` (Linux 5.14) kills every member at once, forks in flight included; else one by one. */
function killGroup(group: string) {
  const file = join(group, "cgroup.kill");
  if (existsSync(file)) {
    try {
      writeFileSync(file, "1");
      return;
    } catch {
      // Removed meanwhile: nothing left to kill.
    }
  }
  killAll(group);
}

function writeOptional(file: string, value: string) {
  if (existsSync(file)) writeFileSync(file, value);
}
