// Hostile runs against the shared sandbox: each is bounded, and the host (processes, shared memory) is unaffected.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { Code, isRegistryError } from "../../core/errors.js";
import { isBwrapAvailable } from "./bwrap.js";
import { createCgroups } from "./cgroups.js";
import { missingTools } from "./run-limits.js";
import { createSandbox, type SandboxOptions } from "./sandbox.js";
import { processesOfUid } from "./uid-slots.js";

const mib = 2 ** 20;
const base: SandboxOptions = {
  timeoutMs: 5_000,
  memoryBytes: 512 * mib,
  tmpBytes: 64 * mib,
  maxProcesses: 64,
  maxOutputBytes: 8 * mib,
  allowUnsandboxed: false,
};

/** Runs `script` under /bin/sh in the sandbox; `$0` is a marker that finds the run's processes on the host. */
function shell(opts: Partial<SandboxOptions>, script: string) {
  const sandbox = createSandbox({ ...base, ...opts });
  const marker = `hostile-${randomBytes(6).toString("hex")}`;
  const done = sandbox
    .run(
      {
        fs: { kind: "host", binds: [] },
        executable: "/bin/sh",
        args: ["-c", script, marker],
        env: { PATH: "/usr/bin:/bin" },
        cwd: "/tmp",
      },
      { stdin: new Uint8Array(), label: `test/${marker}:v1` },
    )
    .finally(() => sandbox.close());
  return { marker, done };
}

/** Host processes whose command line carries the marker, with their host uid. */
function processesOf(marker: string): { pid: number; uid: number; command: string }[] {
  const out: { pid: number; uid: number; command: string }[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (!readFileSync(`/proc/${name}/cmdline`, "latin1").includes(marker)) continue;
      const status = readFileSync(`/proc/${name}/status`, "latin1");
      const uid = /^Uid:\s+(\d+)/m.exec(status)?.[1];
      const command = /^Name:\s+(\S+)/m.exec(status)?.[1] ?? "";
      out.push({ pid: Number(name), uid: Number(uid), command });
    } catch {
      // Exited while we looked.
    }
  }
  return out;
}

const shmemBytes = () =>
  Number(/^Shmem:\s+(\d+) kB/m.exec(readFileSync("/proc/meminfo", "utf8"))?.[1]) * 1024;

/** Samples `probe` every 50 ms until `done` settles; returns the highest value seen. */
async function peakWhile(done: Promise<unknown>, probe: () => number): Promise<number> {
  let peak = probe();
  let settled = false;
  done.then(
    () => (settled = true),
    () => (settled = true),
  );
  while (!settled) {
    peak = Math.max(peak, probe());
    await new Promise((r) => setTimeout(r, 50));
  }
  return peak;
}

async function rejection(p: Promise<unknown>) {
  try {
    await p;
  } catch (err) {
    assert.ok(isRegistryError(err), `not a RegistryError: ${String(err)}`);
    return err;
  }
  assert.fail("the run succeeded");
}

const cgroupsUsable = createCgroups();
cgroupsUsable.close();
const runnable = isBwrapAvailable() && cgroupsUsable.missing === undefined;

describe("sandbox against hostile runs", {
  // A fork bomb without the pids controller would hurt the machine: never run these without it.
  skip: !runnable && !process.env.CI && `bwrap or cgroups missing: ${cgroupsUsable.missing}`,
}, () => {
  test("a fork bomb stops at the process limit, runs as nobody on the host, and leaves nothing behind", async () => {
    const { marker, done } = shell(
      { maxProcesses: 32, timeoutMs: 2_000 },
      // Every process forks on forever, failed forks included (a shell would give up at the first one).
      "exec perl -e 'while (1) { fork; select(undef, undef, undef, 0.05) }' \"$0\"",
    );
    let peak = 0;
    let uids = new Set<number>();
    const seen = peakWhile(done, () => {
      const procs = processesOf(marker);
      // The launch chain (a shell that joins the cgroups, prlimit, setpriv) carries the marker in its arguments and
      // runs as the server until setpriv drops to nobody; the bomb's own processes are perl's.
      for (const p of procs) if (p.command === "perl") uids.add(p.uid);
      return procs.length;
    });
    const err = await rejection(done);
    peak = await seen;
    assert.equal(err.code, Code.DeadlineExceeded, err.message);
    assert.match(err.message, /reached the limit of 32 processes/);
    assert.ok(peak > 5, `the bomb ran (${peak} processes seen)`);
    assert.ok(peak <= 32, `at most 32 processes at once, saw ${peak}`);
    assert.deepEqual([...uids], [65534], "every process is nobody's on the host, not root's");
    uids = new Set();
    assert.deepEqual(processesOf(marker), [], "every process is gone when the run returns");
  });

  test("filling /tmp: four runs at once stop at the /tmp size; shared memory returns to where it was", async () => {
    const before = shmemBytes();
    const runs = Array.from(
      { length: 4 },
      () => shell({}, "dd if=/dev/zero of=/tmp/fill bs=1M count=3000; exit 9").done,
    );
    const all = Promise.allSettled(runs);
    const peak = await peakWhile(all, shmemBytes);
    for (const r of runs) {
      const err = await rejection(r);
      assert.equal(err.code, Code.Internal);
      assert.match(err.message, /exited with code 9$/);
      assert.match(
        (err.fields.details ?? []).join("\n"),
        /No space left on device/,
        "the stderr tail is in the details",
      );
    }
    // 4 × 64 MiB at most, plus what the rest of the machine does meanwhile; unbounded it would be 4 × 3 GB.
    assert.ok(peak - before < 4 * 64 * mib + 128 * mib, `shared memory grew by ${(peak - before) / mib} MiB`);
    assert.ok(shmemBytes() - before < 64 * mib, "the /tmp pages are freed with the run");
  });

  test("/tmp pages count against the memory limit (which RLIMIT_DATA alone does not)", async () => {
    const before = shmemBytes();
    const { done } = shell(
      { memoryBytes: 96 * mib, tmpBytes: 1024 * mib },
      "dd if=/dev/zero of=/tmp/fill bs=1M count=512",
    );
    const peak = await peakWhile(done, shmemBytes);
    const err = await rejection(done);
    assert.equal(err.code, Code.ResourceExhausted, err.message);
    assert.match(err.message, /more than 96 MiB of memory, its \/tmp included/);
    assert.ok(peak - before < 96 * mib + 128 * mib, `shared memory grew by ${(peak - before) / mib} MiB`);
  });

  test("a 4 GiB allocation fails inside the run; the host's free memory is untouched", async () => {
    const available = () =>
      Number(/^MemAvailable:\s+(\d+) kB/m.exec(readFileSync("/proc/meminfo", "utf8"))?.[1]) * 1024;
    const before = available();
    // awk doubles a string until it holds 4 GiB: a plain C allocation, no runtime of ours in the way.
    const { done } = shell(
      { memoryBytes: 256 * mib },
      `awk 'BEGIN { s = "x"; while (length(s) < 4294967296) s = s s; print length(s) }'`,
    );
    let lowest = before;
    const seen = peakWhile(done, () => {
      lowest = Math.min(lowest, available());
      return 0;
    });
    const err = await rejection(done);
    await seen;
    assert.ok(err.code === Code.ResourceExhausted || err.code === Code.Internal, err.message);
    assert.ok(before - lowest < 256 * mib + 256 * mib, `free memory fell by ${(before - lowest) / mib} MiB`);
  });

  test("sleeping forever, with a detached child: killed at the deadline, nothing survives", async () => {
    const { marker, done } = shell({ timeoutMs: 500 }, "setsid sleep 600 & (sleep 600 &) ; sleep 600");
    const err = await rejection(done);
    assert.equal(err.code, Code.DeadlineExceeded);
    assert.match(err.message, /did not finish within 500 ms/);
    assert.deepEqual(processesOf(marker), []);
  });

  test("the event loop stays free while hostile runs go on", async () => {
    // The longest stall of a 20 ms timer, idle and then while a fork bomb runs: on a shared machine the idle one
    // is the scheduler's share, so the bound is 250 ms or ten times that, whichever is larger.
    const worstStall = async (until: Promise<unknown>) => {
      let worst = 0;
      let last = performance.now();
      const timer = setInterval(() => {
        const now = performance.now();
        worst = Math.max(worst, now - last - 20);
        last = now;
      }, 20);
      await until;
      clearInterval(timer);
      return worst;
    };
    const idle = await worstStall(new Promise((r) => setTimeout(r, 500)));
    const { done } = shell(
      { maxProcesses: 32, timeoutMs: 1_500 },
      "exec perl -e 'while (1) { fork; select(undef, undef, undef, 0.05) }' \"$0\"",
    );
    const worst = await worstStall(rejection(done));
    assert.ok(
      worst < Math.max(250, 10 * idle),
      `the event loop stalled for ${worst.toFixed(0)} ms (idle: ${idle.toFixed(0)} ms)`,
    );
  });
});

describe("sandbox without cgroups", () => {
  test("warns once at start, naming what is missing", () => {
    const warnings: string[] = [];
    const sandbox = createSandbox({
      ...base,
      cgroups: false,
      log: { debug() {}, warn: (_f, m) => warnings.push(m) },
    });
    sandbox.close();
    assert.equal(
      warnings.filter((w) => /^(cgroups are not usable|plugin runs cannot be bounded)/.test(w)).length,
      1,
    );
  });

  test("images never run without bwrap, even with allowUnsandboxed", async () => {
    const sandbox = createSandbox({ ...base, bwrap: false, allowUnsandboxed: true, cgroups: false });
    const err = await rejection(
      sandbox.run(
        { fs: { kind: "rootfs", root: "/nonexistent" }, executable: "/p", args: [], env: {}, cwd: "/" },
        { stdin: new Uint8Array(), label: "test/image:v1" },
      ),
    );
    assert.equal(err.code, Code.FailedPrecondition);
    assert.match(err.message, /images only run inside bubblewrap/);
  });
});

/** Real uid, resident memory and command line of each process running as one of `uids`, from /proc. */
function processesOfUids(uids: ReadonlySet<number>): { pid: number; uid: number; rssBytes: number }[] {
  const out: { pid: number; uid: number; rssBytes: number }[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const status = readFileSync(`/proc/${name}/status`, "latin1");
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
      if (!uids.has(uid)) continue;
      const rssKiB = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
      out.push({ pid: Number(name), uid, rssBytes: rssKiB * 1024 });
    } catch {
      // Exited while we looked.
    }
  }
  return out;
}

const isRoot = process.getuid?.() === 0;
const fallbackRunnable = isBwrapAvailable() && isRoot && missingTools().length === 0;

describe("sandbox with cgroups off: the rlimits fallback", {
  // A fork bomb without any process limit would hurt the machine: never run these where the fallback is missing.
  skip: !fallbackRunnable && !process.env.CI && "needs a root server, bwrap, prlimit and setpriv",
}, () => {
  // A range of this test process's own, far from any real user, with its own lock files.
  const first = 1_879_100_000 + (process.pid % 10_000) * 8;
  const range = { first, count: 4 };
  const rangeUids = new Set(Array.from({ length: range.count }, (_, i) => first + i));
  const lockDir = mkdtempSync(join(tmpdir(), "protodepot-uids-"));
  after(() => rmSync(lockDir, { recursive: true, force: true }));
  const fallback: Partial<SandboxOptions> = { cgroups: "off", uidRange: range, uidLockDir: lockDir };

  test("says so at start and in its status", () => {
    const warnings: string[] = [];
    const sandbox = createSandbox({
      ...base,
      ...fallback,
      log: { debug() {}, warn: (_f, m) => warnings.push(m) },
    });
    sandbox.close();
    assert.equal(sandbox.bounds, "rlimits");
    assert.deepEqual(sandbox.status(), { limits: "rlimits", pushedPlugins: "bounded" });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? "", /bounded by rlimits, one uid each/);
  });

  test("a fork bomb stays at the process limit, counted from outside by its uid, and nothing is left", async (t) => {
    const { marker, done } = shell(
      { ...fallback, maxProcesses: 32, timeoutMs: 2_000 },
      "exec perl -e 'while (1) { fork; select(undef, undef, undef, 0.05) }' \"$0\"",
    );
    const uids = new Set<number>();
    const peak = peakWhile(done, () => {
      const procs = processesOfUids(rangeUids);
      for (const p of procs) uids.add(p.uid);
      return procs.length;
    });
    const err = await rejection(done);
    const seen = await peak;
    assert.equal(err.code, Code.DeadlineExceeded, err.message);
    assert.match(err.message, new RegExp(`plugin test/${marker}:v1 did not finish within 2000 ms`));
    t.diagnostic(`peak processes of the run's uid: ${seen} (limit 32)`);
    assert.ok(seen > 20, `the bomb ran (${seen} processes seen)`);
    // bwrap's monitor and the namespace's init included: RLIMIT_NPROC counts every process of the uid.
    assert.ok(seen <= 32, `at most 32 processes of the run's uid at once, saw ${seen}`);
    assert.equal(uids.size, 1, "one uid for the whole run");
    const [uid] = [...uids] as [number];
    for (let i = 0; i < 100 && (await processesOfUid(uid)).length > 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(await processesOfUid(uid), [], "every process of the uid is gone after the run");
  });

  test("a memory bomb stops at the memory limit, measured from outside; the error names the plugin", async (t) => {
    const limit = 256 * mib;
    const { marker, done } = shell(
      { ...fallback, memoryBytes: limit },
      `awk 'BEGIN { s = "x"; while (length(s) < 4294967296) s = s s; print length(s) }'`,
    );
    const peak = peakWhile(done, () => processesOfUids(rangeUids).reduce((sum, p) => sum + p.rssBytes, 0));
    const err = await rejection(done);
    const rss = await peak;
    assert.equal(err.code, Code.Internal, err.message);
    assert.match(err.message, new RegExp(`^plugin test/${marker}:v1 exited with code \\d+`));
    assert.match((err.fields.details ?? []).join("\n"), /out of memory|cannot allocate|not enough memory/i);
    t.diagnostic(`peak resident memory of the run's uid: ${Math.round(rss / mib)} MiB (limit 256 MiB)`);
    assert.ok(rss > 64 * mib, `the bomb grew (${Math.round(rss / mib)} MiB seen)`);
    assert.ok(rss <= limit, `the run's memory stayed under 256 MiB, saw ${Math.round(rss / mib)} MiB`);
  });

  test("an image runs too, as the sandbox user, with a read-only /dev whose devices still work", async () => {
    const sandbox = createSandbox({ ...base, ...fallback });
    // The host's own root stands in for an unpacked image: what matters here is how it is mounted.
    const out = await sandbox.run(
      {
        fs: { kind: "rootfs", root: "/" },
        executable: "/bin/sh",
        args: [
          "-c",
          "id -u; echo x > /dev/null && echo null-ok; touch /dev/shm/x 2>/dev/null || echo shm-ro",
        ],
        env: { PATH: "/usr/bin:/bin" },
        cwd: "/",
      },
      { stdin: new Uint8Array(), label: "bob/image:v1" },
    );
    sandbox.close();
    assert.equal(Buffer.concat(out).toString(), "65534\nnull-ok\nshm-ro\n");
  });

  test("runs at once get distinct uids; a third waits for a free one rather than sharing", async () => {
    const two = new Set([first, first + 1]);
    const sandbox = createSandbox({ ...base, ...fallback, uidRange: { first, count: 2 } });
    const run = () =>
      sandbox.run(
        {
          fs: { kind: "host", binds: [] },
          executable: "/bin/sh",
          args: ["-c", "sleep 0.4; echo done"],
          env: { PATH: "/usr/bin:/bin" },
          cwd: "/tmp",
        },
        { stdin: new Uint8Array(), label: "test/uid:v1" },
      );
    const all = Promise.all([run(), run(), run()]);
    let most = 0;
    const seen = new Set<number>();
    await peakWhile(all, () => {
      const byUid = new Set(processesOfUids(rangeUids).map((p) => p.uid));
      for (const u of byUid) seen.add(u);
      most = Math.max(most, byUid.size);
      return 0;
    });
    const outputs = await all;
    sandbox.close();
    assert.deepEqual(
      outputs.map((o) => Buffer.concat(o).toString()),
      ["done\n", "done\n", "done\n"],
    );
    assert.equal(most, 2, "two runs at once, each under its own uid");
    assert.deepEqual([...seen].sort(), [...two].sort(), "only uids of the range");
  });
});

describe("a server that cannot bound runs", () => {
  const unbounded: Partial<SandboxOptions> = { cgroups: "off", uidRange: { first: 0, count: 1 } };
  const image = {
    fs: { kind: "rootfs" as const, root: "/" },
    executable: "/bin/true",
    args: [],
    env: {},
    cwd: "/",
  };

  test("refuses owner-pushed images, naming the plugin and the setting", async () => {
    const sandbox = createSandbox({ ...base, ...unbounded });
    sandbox.close();
    assert.deepEqual(sandbox.status(), { limits: "none", pushedPlugins: "refused" });
    const err = await rejection(sandbox.run(image, { stdin: new Uint8Array(), label: "bob/hostile:v1" }));
    assert.equal(err.code, Code.FailedPrecondition);
    assert.match(err.message, /^plugin bob\/hostile:v1 cannot run: .*sandbox\.allowUnbounded is false/);
  });

  test("still runs the admin's host commands, and images too with sandbox.allowUnbounded", async () => {
    const sandbox = createSandbox({ ...base, ...unbounded, allowUnbounded: true });
    assert.deepEqual(sandbox.status(), { limits: "none", pushedPlugins: "unbounded" });
    const out = await sandbox.run(
      { fs: { kind: "host", binds: [] }, executable: "/bin/echo", args: ["hi"], env: {}, cwd: "/tmp" },
      { stdin: new Uint8Array(), label: "admin/echo:v1" },
    );
    sandbox.close();
    assert.equal(Buffer.concat(out).toString(), "hi\n");
  });
});
