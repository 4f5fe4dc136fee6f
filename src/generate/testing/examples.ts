// Test support: the demo modules compiled by the real buf, and what the real `buf generate` writes for them.
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import type { Scope } from "../../core/types.js";
import { createHostRuntime } from "../../plugins/host/host-runtime.js";
import { createSandbox } from "../../plugins/sandbox/sandbox.js";

const exec = promisify(execFile);
export const repoRoot = join(import.meta.dirname, "../../..");
export const bufPath = join(repoRoot, "node_modules/.bin/buf");
export const fixturePlugins = join(repoRoot, "test/fixtures/plugins");

const mib = 2 ** 20;
/** The sandboxed runtime the engine tests run real plugins with. */
export const testRuntime = createHostRuntime(
  createSandbox({
    timeoutMs: 20_000,
    memoryBytes: 1024 * mib,
    tmpBytes: 64 * mib,
    maxProcesses: 256,
    maxOutputBytes: 32 * mib,
    allowUnsandboxed: false,
  }),
);
export const testLimits = { maxFiles: 100, maxOutputBytes: 8 * mib };

export interface Workspace {
  dir: string;
  /** The workspace module `buf generate` is run on. */
  target: string;
  /** FileDescriptorSet of payments (and money, and the WKT it imports), as the registry stores it. */
  image: Uint8Array;
  moduleFiles: string[];
  depFiles: string[];
  cleanup(): Promise<void>;
}

/** examples/payments with examples/money as a second module of a v2 workspace, built with `buf build`. */
export async function buildExamples(): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), "protodepot-gen-"));
  for (const m of ["money", "payments"]) {
    await mkdir(join(dir, m), { recursive: true });
    await cp(join(repoRoot, "examples", m, "demo"), join(dir, m, "demo"), { recursive: true });
  }
  await writeFile(join(dir, "buf.yaml"), "version: v2\nmodules:\n  - path: money\n  - path: payments\n");
  const { stdout } = await exec(bufPath, ["build", "payments", "-o", "-", "--as-file-descriptor-set"], {
    cwd: dir,
    env: bufEnv(dir),
    encoding: "buffer",
    maxBuffer: 64 << 20,
  });
  return {
    dir,
    target: "payments",
    image: new Uint8Array(stdout),
    moduleFiles: ["demo/payments/v1/payments.proto"],
    depFiles: ["demo/money/v1/money.proto"],
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** `buf generate <target>` with one local plugin; returns the files it wrote, by path. */
export async function bufGenerate(
  ws: Workspace,
  plugin: { path: string; opt: readonly string[]; strategy?: "all" | "directory" },
  scope: Scope,
): Promise<Map<string, Uint8Array>> {
  const out = await mkdtemp(join(ws.dir, "out-"));
  const opt = plugin.opt.map((o) => `      - ${JSON.stringify(o)}\n`).join("");
  const config = join(out, "buf.gen.yaml");
  await writeFile(
    config,
    `version: v2\nplugins:\n  - local: ${plugin.path}\n    out: ${join(out, "gen")}\n` +
      (plugin.strategy ? `    strategy: ${plugin.strategy}\n` : "") +
      (opt ? `    opt:\n${opt}` : ""),
  );
  const flags =
    scope === "module"
      ? []
      : scope === "imports"
        ? ["--include-imports"]
        : ["--include-imports", "--include-wkt"];
  await exec(bufPath, ["generate", ws.target, "--template", config, ...flags], {
    cwd: ws.dir,
    env: bufEnv(ws.dir),
  });
  const files = new Map<string, Uint8Array>();
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else files.set(relative(join(out, "gen"), p), new Uint8Array(await readFile(p)));
    }
  };
  await walk(join(out, "gen"));
  return files;
}

const bufEnv = (dir: string) => ({ ...process.env, BUF_CACHE_DIR: join(dir, ".cache") });
