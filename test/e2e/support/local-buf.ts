// Runs the real `buf generate` locally over the demo modules, as a user without protodepot would.
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { repoRoot } from "./server.js";

const exec = promisify(execFile);
export const bufPath = join(repoRoot, "node_modules/.bin/buf");

export type FileMap = Map<string, string>;

export async function readTree(dir: string): Promise<FileMap> {
  const out: FileMap = new Map();
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.set(relative(dir, p), await readFile(p, "utf8"));
    }
  };
  await walk(dir);
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/**
 * `buf generate` with `strategy: all` (one request with every file, as the registry sends and as BSR's remote
 * plugins do; buf's default for local plugins is one request per directory, which only differs for
 * imports_wkt with protoc-gen-es: it then imports the well-known types from the runtime instead of the
 * generated copies the archive holds) of examples/payments (with examples/money as a workspace module) with one local plugin;
 * `imports` adds --include-imports, `imports_wkt` also --include-wkt.
 */
export async function localGenerate(opts: {
  /** A plugin executable, or one of protoc's built-in generators (buf runs the protoc on PATH). */
  plugin: string | { protocBuiltin: string };
  options: string[];
  scope: "module" | "imports" | "imports_wkt";
}): Promise<FileMap> {
  const ws = await mkdtemp(join(tmpdir(), "protodepot-localgen-"));
  for (const m of ["money", "payments"]) {
    await mkdir(join(ws, m), { recursive: true });
    await cp(join(repoRoot, "examples", m, "demo"), join(ws, m, "demo"), { recursive: true });
  }
  await writeFile(join(ws, "buf.yaml"), "version: v2\nmodules:\n  - path: money\n  - path: payments\n");
  const opt = opts.options.map((o) => `      - "${o}"\n`).join("");
  await writeFile(
    join(ws, "buf.gen.yaml"),
    `version: v2\nplugins:\n  - ${typeof opts.plugin === "string" ? `local: ${opts.plugin}` : `protoc_builtin: ${opts.plugin.protocBuiltin}`}\n    out: out\n    strategy: all\n${opt ? `    opt:\n${opt}` : ""}`,
  );
  const flags =
    opts.scope === "module"
      ? []
      : opts.scope === "imports"
        ? ["--include-imports"]
        : ["--include-imports", "--include-wkt"];
  await exec(bufPath, ["generate", "payments", ...flags], {
    cwd: ws,
    env: { ...process.env, BUF_CACHE_DIR: join(ws, ".cache") },
  });
  return readTree(join(ws, "out"));
}
