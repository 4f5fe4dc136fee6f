// Runs the end-to-end tests (test/e2e/**/*.test.ts) in two phases, so CI fits its time budget without any test
// judging the server on a machine busy with another:
//   1. exclusive: files whose header holds a line `// e2e: exclusive — WHY` run one at a time, the machine to
//      themselves (they time /healthz under attack, count plugin slots, or bound CPU, memory or processes);
//   2. shared: every other file, two at a time (they mostly wait on real clients: go, mvn, pip, cargo, Chromium…).
// Both phases always run; the exit code is non-zero if any file failed. Node's own test output is printed as is.
//   node scripts/test-e2e.mjs [FILE…]     (default: every e2e file; extra node --test flags go before the files)
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const root = "test/e2e";
const sharedConcurrency = 2;
const marker = /^\/\/ e2e: exclusive — (.+)$/;

function findTests(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => {
      const path = join(dir, e.name);
      if (e.isDirectory()) return e.name === "support" ? [] : findTests(path);
      return e.name.endsWith(".test.ts") ? [path] : [];
    })
    .sort();
}

/** The reason in the file's header (its comment lines before the first other line), or undefined if shared. */
function exclusiveReason(file) {
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (!line.startsWith("//")) return undefined;
    const m = marker.exec(line.trim());
    if (m) return m[1];
  }
  return undefined;
}

function runPhase(name, files, concurrency, flags) {
  if (files.length === 0) return Promise.resolve(0);
  console.log(`test-e2e: ${name} phase, ${files.length} files, ${concurrency} at a time`);
  const started = Date.now();
  const args = ["--import", "tsx", "--test", `--test-concurrency=${concurrency}`, ...flags, ...files];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: "inherit" });
    child.on("exit", (code, signal) => {
      const seconds = Math.round((Date.now() - started) / 1000);
      console.log(`test-e2e: ${name} phase ${code === 0 ? "passed" : "FAILED"} in ${seconds} s`);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

const argv = process.argv.slice(2);
const flags = argv.filter((a) => a.startsWith("-"));
const named = argv.filter((a) => !a.startsWith("-"));
const files = named.length > 0 ? named : findTests(root);
const exclusive = [];
const shared = [];
for (const file of files) {
  const reason = exclusiveReason(file);
  if (reason) {
    exclusive.push(file);
    console.log(`test-e2e: exclusive ${file}: ${reason}`);
  } else {
    shared.push(file);
  }
}

const failed = [];
if ((await runPhase("exclusive", exclusive, 1, flags)) !== 0) failed.push("exclusive");
if ((await runPhase("shared", shared, sharedConcurrency, flags)) !== 0) failed.push("shared");
if (failed.length > 0) {
  console.error(`test-e2e: the ${failed.join(" and ")} phase failed (see "not ok" above)`);
  process.exit(1);
}
