// The launch chain: what a run's first process does before the plugin, in which order.
import assert from "node:assert/strict";
import { test } from "node:test";
import { limitChain, prlimitPath, setprivPath } from "./run-limits.js";

const mib = 2 ** 20;

test("cgroups: the shell joins every group, then drops to the sandbox uid, then execs the command", () => {
  const argv = limitChain(
    {
      dataBytes: 512 * mib,
      procsFiles: ["/cg/pids/run-1/cgroup.procs", "/cg/mem/run-1/cgroup.procs"],
      uid: 65534,
    },
    ["/usr/bin/bwrap", "--", "/p"],
  );
  assert.deepEqual(argv, [
    "/bin/sh",
    "-c",
    'ulimit -d 524288 && echo $$ > "$1" && echo $$ > "$2" && shift 2 && exec "$@"',
    "sh",
    "/cg/pids/run-1/cgroup.procs",
    "/cg/mem/run-1/cgroup.procs",
    setprivPath,
    "--reuid=65534",
    "--regid=65534",
    "--clear-groups",
    "--",
    "/usr/bin/bwrap",
    "--",
    "/p",
  ]);
});

test("rlimits: prlimit sets the per-uid limits while still root, setpriv then switches to the run's uid", () => {
  const argv = limitChain(
    {
      dataBytes: 256 * mib,
      procsFiles: [],
      uid: 1879048192,
      rlimits: { maxProcesses: 32, fileBytes: 64 * mib, addressSpaceBytes: 8192 * mib },
    },
    ["/usr/bin/bwrap"],
  );
  assert.equal(argv[2], 'ulimit -d 262144 && exec "$@"');
  assert.deepEqual(argv.slice(4), [
    prlimitPath,
    "--nproc=32",
    `--fsize=${64 * mib}`,
    `--as=${8192 * mib}`,
    "--",
    setprivPath,
    "--reuid=1879048192",
    "--regid=1879048192",
    "--clear-groups",
    "--",
    "/usr/bin/bwrap",
  ]);
});

test("a server that is not root: no uid switch, no groups, the command as is", () => {
  assert.deepEqual(limitChain({ dataBytes: mib, procsFiles: [] }, ["/p", "a b"]), [
    "/bin/sh",
    "-c",
    'ulimit -d 1024 && exec "$@"',
    "sh",
    "/p",
    "a b",
  ]);
});
