// Detecting cgroup v1 and v2 from /proc, and v2 run groups: on this host's real hierarchies where they allow it.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parseCgroupLayout, readCgroupLayout } from "./cgroup-layout.js";
import { createCgroups } from "./cgroups.js";
import { createCgroupsV2 } from "./cgroups-v2.js";

const hybridMounts = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw`;

describe("cgroup layout", () => {
  test("hybrid host: v1 controllers by name, v2 at the unified mount", () => {
    const layout = parseCgroupLayout(
      hybridMounts,
      "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/68e1\n0::/\n",
    );
    assert.equal(layout.v1.get("memory"), "/sys/fs/cgroup/memory/process_api/68e1");
    assert.equal(layout.v1.get("pids"), "/sys/fs/cgroup/pids");
    assert.equal(layout.v2, "/sys/fs/cgroup/unified");
  });

  test("v2-only host (Debian 12, Ubuntu 22.04, RHEL 9): the service's own group", () => {
    const layout = parseCgroupLayout(
      "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate",
      "0::/system.slice/protodepot.service\n",
    );
    assert.equal(layout.v2, "/sys/fs/cgroup/system.slice/protodepot.service");
    assert.equal(layout.v1.size, 0);
  });

  test("a container that sees only its subtree, bind-mounted at the top", () => {
    const layout = parseCgroupLayout(
      "35 31 0:32 /docker/abc /sys/fs/cgroup/memory ro,relatime - cgroup cgroup rw,memory",
      "4:memory:/docker/abc/inner\n",
    );
    assert.equal(layout.v1.get("memory"), "/sys/fs/cgroup/memory/inner");
  });

  test("this host: what the real /proc says is what auto picks", () => {
    const layout = readCgroupLayout();
    const cgroups = createCgroups();
    cgroups.close();
    const v2Controllers =
      layout.v2 && existsSync(join(layout.v2, "cgroup.controllers"))
        ? readFileSync(join(layout.v2, "cgroup.controllers"), "utf8").trim().split(/\s+/)
        : [];
    const v2Usable = ["pids", "memory"].every((c) => v2Controllers.includes(c));
    if (v2Usable) assert.equal(cgroups.version, "v2", cgroups.missing);
    else if (cgroups.version === undefined) {
      assert.match(cgroups.missing ?? "", /cgroup v2|no cgroup v2/);
      assert.match(cgroups.missing ?? "", /cgroup v1/);
    } else assert.equal(cgroups.version, "v1");
  });
});

describe("cgroup v2 groups", () => {
  test("on a hybrid host, v2 without its controllers is refused with the reason", (t) => {
    const layout = readCgroupLayout();
    const controllers =
      layout.v2 && existsSync(join(layout.v2, "cgroup.controllers"))
        ? readFileSync(join(layout.v2, "cgroup.controllers"), "utf8")
        : undefined;
    if (controllers === undefined || /\bpids\b/.test(controllers)) {
      t.skip("not a hybrid host");
      return;
    }
    const cgroups = createCgroups({ mode: "v2" });
    assert.equal(cgroups.version, undefined);
    assert.match(cgroups.missing ?? "", /cgroup v2 controllers (pids, )?memory are not available in /);
  });

  test("members join before exec and cgroup.kill takes every one of them (the real unified hierarchy)", async (t) => {
    const layout = readCgroupLayout();
    if (process.getuid?.() !== 0 || !layout.v2 || !existsSync(join(layout.v2, "cgroup.procs"))) {
      t.skip("needs root and a cgroup v2 mount");
      return;
    }
    // No controllers: what this host's v2 allows (its pids and memory are bound to v1), membership and kill still real.
    const cgroups = createCgroups({ mode: "v2", v2Controllers: [] });
    assert.equal(cgroups.version, "v2", cgroups.missing);
    try {
      const group = cgroups.create({ memoryBytes: 64 << 20, maxProcesses: 8 });
      const [procs] = group.procsFiles as [string];
      const child = spawn("/bin/sh", ["-c", 'echo $$ > "$1"; sleep 60 & sleep 60 & wait', "sh", procs], {
        stdio: "ignore",
      });
      const exited = new Promise((resolve) => child.on("exit", resolve));
      let members: string[] = [];
      // The shell and its two children, every one of them inside before the shell forked.
      for (let i = 0; i < 100 && members.length < 3; i++) {
        await new Promise((r) => setTimeout(r, 20));
        members = readFileSync(procs, "utf8").split("\n").filter(Boolean);
      }
      assert.equal(members.length, 3, `the shell and its children are members (${members.join(" ")})`);
      assert.deepEqual(await group.finish(), { oomKilled: false, processLimitHit: false });
      await exited;
      const running = () =>
        members.filter((pid) => {
          try {
            return !/^State:\s+[ZX]/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
          } catch {
            return false;
          }
        });
      for (let i = 0; i < 100 && running().length; i++) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(running(), [], "cgroup.kill took every member");
      const dir = join(procs, "..");
      for (let i = 0; i < 100 && existsSync(dir); i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(existsSync(dir), false, "the run group is removed");
    } finally {
      cgroups.close();
    }
  });

  test("the limits a run group gets, and its report (a v2 tree laid out in files: this host has no v2 pids/memory)", async () => {
    const base = mkdtempSync(join(tmpdir(), "protodepot-cg2-"));
    try {
      writeFileSync(join(base, "cgroup.procs"), "");
      writeFileSync(join(base, "cgroup.controllers"), "cpu io memory pids");
      writeFileSync(join(base, "cgroup.subtree_control"), "");
      const cgroups = createCgroupsV2(base, 1);
      assert.equal(readFileSync(join(base, "cgroup.subtree_control"), "utf8"), "+pids +memory");
      const parent = join(base, `protodepot-${process.pid}-1`);
      assert.equal(readFileSync(join(parent, "cgroup.subtree_control"), "utf8"), "+pids +memory");
      const group = cgroups.create({ memoryBytes: 96 << 20, maxProcesses: 32 });
      const run = join(parent, "run-1");
      assert.deepEqual(group.procsFiles, [join(run, "cgroup.procs")]);
      assert.equal(readFileSync(join(run, "pids.max"), "utf8"), "32");
      assert.equal(readFileSync(join(run, "memory.max"), "utf8"), String(96 << 20));
      // What the kernel would count during the run.
      writeFileSync(join(run, "memory.events"), "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\n");
      writeFileSync(join(run, "pids.events"), "max 7\n");
      assert.deepEqual(await group.finish(), { oomKilled: true, processLimitHit: true });
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
