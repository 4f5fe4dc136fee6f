// The launch chain of one run: a shell joins the run's cgroups, prlimit sets the per-uid limits, setpriv drops to the run's uid.
import { accessSync, constants } from "node:fs";

/**
 * How a run's processes and memory are bounded. `cgroup-v2`/`cgroup-v1`: the whole run (every process and its
 * /tmp pages). `rlimits`: a uid of its own per run, so RLIMIT_NPROC bounds its processes, and RLIMIT_DATA/AS each
 * process's memory; /tmp by its size. `none`: only time and output (and RLIMIT_DATA per process).
 */
export type SandboxBounds = "cgroup-v2" | "cgroup-v1" | "rlimits" | "none";

export const prlimitPath = "/usr/bin/prlimit";
export const setprivPath = "/usr/bin/setpriv";

/** The util-linux tools a root server needs to start runs as another uid with limits; empty when all are there. */
export function missingTools(): string[] {
  return [prlimitPath, setprivPath].filter((p) => {
    try {
      accessSync(p, constants.X_OK);
      return false;
    } catch {
      return true;
    }
  });
}

export interface LaunchLimits {
  /** RLIMIT_DATA of every process (all modes): private writable memory, what a process really allocates. */
  dataBytes: number;
  /** Files the run's processes write to before exec, to join the run's cgroups. */
  procsFiles: readonly string[];
  /** The rlimits fallback: per-uid process count, file size, address space. */
  rlimits?: { maxProcesses: number; fileBytes: number; addressSpaceBytes: number };
  /** Switch to this uid and gid (with no supplementary groups) before the command: the server is root. */
  uid?: number;
}

/**
 * argv that runs `command` within `limits`: `/bin/sh -c …` sets RLIMIT_DATA and joins the cgroups (as the server's
 * user, so v2's rule that the mover may write the common ancestor's cgroup.procs holds), then execs prlimit, which
 * execs setpriv, which execs the command: one process all along, inside the groups before it can fork.
 */
export function limitChain(limits: LaunchLimits, command: readonly string[]): [string, ...string[]] {
  const steps = [
    `ulimit -d ${Math.ceil(limits.dataBytes / 1024)}`,
    ...limits.procsFiles.map((_, i) => `echo $$ > "$${i + 1}"`),
  ];
  if (limits.procsFiles.length) steps.push(`shift ${limits.procsFiles.length}`);
  steps.push('exec "$@"');
  const chain: string[] = [];
  if (limits.rlimits) {
    const r = limits.rlimits;
    // RLIMIT_NPROC counts every process and thread of the real uid, in every user namespace below: with a uid of
    // its own, that is the run's process count. soft:hard alike, so the plugin cannot raise it.
    chain.push(
      prlimitPath,
      `--nproc=${r.maxProcesses}`,
      `--fsize=${r.fileBytes}`,
      `--as=${r.addressSpaceBytes}`,
      "--",
    );
  }
  if (limits.uid !== undefined) {
    chain.push(setprivPath, `--reuid=${limits.uid}`, `--regid=${limits.uid}`, "--clear-groups", "--");
  }
  return ["/bin/sh", "-c", steps.join(" && "), "sh", ...limits.procsFiles, ...chain, ...command];
}
