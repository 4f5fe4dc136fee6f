// Watches a running server from outside, in its own process (so a busy test process does not skew the figures):
// `healthz`: GET /healthz every 50 ms on a fresh connection; `memory`: every 25 ms the memory of the buf processes
// the server started (/proc) and of their cgroups. Runs until stdin closes, then prints one JSON line. The two run
// as separate processes: reading /proc of a process the kernel is reclaiming from can stall the reader.
//   node --import tsx test/e2e/support/watch-server.ts healthz|memory SERVER_PID URL
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";

export interface WatchReport {
  /** Milliseconds of each /healthz answer, in order; a failed request counts as Infinity (JSON null). */
  healthz: (number | null)[];
  /** Why /healthz requests failed, one line each. */
  errors: string[];
  /** Samples of memory taken. */
  samples: number;
  /**
   * Highest anonymous RSS (RssAnon) of any one buf process at a sample: the memory a run allocates. VmRSS and VmHWM
   * also count the pages of buf's 40 MB binary, which every run shares and the page cache holds once.
   */
  bufPeakBytes: number;
  /** Highest peak RSS (VmHWM) of any one buf process, its binary's pages included. */
  bufHwmBytes: number;
  /** Highest sum of the anonymous RSS of the buf processes alive at one sample. */
  bufTotalBytes: number;
  /** Most buf processes alive at one sample. */
  bufAtOnce: number;
  /** Highest peak of any one of the server's run cgroups (memory.max_usage_in_bytes or memory.peak). */
  groupPeakBytes: number;
  /** Highest sum of the current usage of the server's run cgroups at one sample. */
  groupTotalBytes: number;
}

const [mode, pidArg, url] = process.argv.slice(2);
const serverPid = Number(pidArg);
if (!serverPid || !url || (mode !== "healthz" && mode !== "memory"))
  throw new Error("usage: watch-server.ts healthz|memory SERVER_PID URL");

const report: WatchReport = {
  healthz: [],
  errors: [],
  samples: 0,
  bufPeakBytes: 0,
  bufHwmBytes: 0,
  bufTotalBytes: 0,
  bufAtOnce: 0,
  groupPeakBytes: 0,
  groupTotalBytes: 0,
};

function read(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/** The server and every process below it (pid → comm). */
function descendants(): Map<number, string> {
  const parent = new Map<number, number>();
  const comm = new Map<number, string>();
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!pid) continue;
    const stat = read(`/proc/${pid}/stat`);
    if (!stat) continue;
    // pid (comm) state ppid …; comm may hold spaces and parentheses, so split at the last ')'.
    const close = stat.lastIndexOf(")");
    comm.set(pid, stat.slice(stat.indexOf("(") + 1, close));
    parent.set(pid, Number(stat.slice(close + 2).split(" ")[1]));
  }
  const out = new Map<number, string>();
  for (const pid of comm.keys()) {
    for (let p: number | undefined = pid, hops = 0; p && hops < 64; p = parent.get(p), hops++) {
      if (p === serverPid) {
        out.set(pid, comm.get(pid) ?? "");
        break;
      }
    }
  }
  return out;
}

function kib(status: string, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

/** Run groups (`protodepot-{pid}-{n}/run-{m}`) of the server's processes, in cgroup v1 memory or v2. */
function runGroups(pids: Iterable<number>): string[] {
  const own = new Set([...pids].map(String));
  const bases = new Set<string>();
  for (const pid of own) {
    for (const line of (read(`/proc/${pid}/cgroup`) ?? "").split("\n")) {
      const [, names, path] = line.split(":");
      if (path === undefined) continue;
      if (names?.split(",").includes("memory")) bases.add(join("/sys/fs/cgroup/memory", path));
      else if (names === "" && existsSync("/sys/fs/cgroup/cgroup.controllers"))
        bases.add(join("/sys/fs/cgroup", path));
    }
  }
  const groups: string[] = [];
  for (const base of bases) {
    let entries: string[] = [];
    try {
      entries = readdirSync(base);
    } catch {
      continue;
    }
    for (const parent of entries) {
      const m = /^protodepot-(\d+)-\d+$/.exec(parent);
      if (!m?.[1] || !own.has(m[1])) continue;
      try {
        for (const run of readdirSync(join(base, parent))) {
          if (run.startsWith("run-")) groups.push(join(base, parent, run));
        }
      } catch {
        // Removed meanwhile.
      }
    }
  }
  return groups;
}

function sample() {
  const procs = descendants();
  let total = 0;
  let bufs = 0;
  for (const [pid, comm] of procs) {
    if (comm !== "buf") continue;
    const status = read(`/proc/${pid}/status`);
    if (!status) continue;
    bufs++;
    const anon = kib(status, "RssAnon");
    total += anon;
    report.bufPeakBytes = Math.max(report.bufPeakBytes, anon);
    report.bufHwmBytes = Math.max(report.bufHwmBytes, kib(status, "VmHWM"));
  }
  report.bufTotalBytes = Math.max(report.bufTotalBytes, total);
  report.bufAtOnce = Math.max(report.bufAtOnce, bufs);
  let groupTotal = 0;
  for (const group of runGroups([serverPid, ...procs.keys()])) {
    const usage = Number(
      read(join(group, "memory.usage_in_bytes")) ?? read(join(group, "memory.current")) ?? 0,
    );
    const peak = Number(
      read(join(group, "memory.max_usage_in_bytes")) ?? read(join(group, "memory.peak")) ?? 0,
    );
    groupTotal += usage || 0;
    report.groupPeakBytes = Math.max(report.groupPeakBytes, peak || 0);
  }
  report.groupTotalBytes = Math.max(report.groupTotalBytes, groupTotal);
  report.samples++;
}

function healthz() {
  const started = performance.now();
  const req = request(`${url}/healthz`, { agent: false }, (res) => {
    res.resume();
    res.on("end", () => report.healthz.push(performance.now() - started));
  });
  req.setTimeout(5_000, () => req.destroy());
  req.on("error", (err) => {
    report.healthz.push(Number.POSITIVE_INFINITY);
    report.errors.push(`${((performance.now() - started) / 1000).toFixed(1)} s: ${err.message}`);
  });
  req.end();
}

const timers = [mode === "healthz" ? setInterval(healthz, 50) : setInterval(sample, 25)];
process.stdin.resume();
process.stdin.on("end", () => {
  for (const t of timers) clearInterval(t);
  if (mode === "memory") sample();
  // Answers still in flight are waited for briefly, so the last samples count too.
  setTimeout(() => {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    process.exit(0);
  }, 200);
});
