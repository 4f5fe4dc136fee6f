// Schema checks over stored images with the real buf: `buf breaking` against an earlier image, `buf lint`.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, RegistryError } from "../core/errors.js";
import type { BreakingCategory, LintCategory } from "../core/types.js";
import { defaultBuf, isAnnotation, parseJson, type RunResult, run } from "./buf-compiler.js";

export interface SchemaChecker {
  /** Breaking changes of `image` against `against` in one category, as `file:line:col: message (RULE)` lines. */
  breaking(
    input: { image: Uint8Array; against: Uint8Array; category: BreakingCategory; paths: readonly string[] },
    signal?: AbortSignal,
  ): Promise<string[]>;
  /** Lint findings of `image`, as `file:line:col: message (RULE)` lines. */
  lint(
    input: { image: Uint8Array; categories: readonly LintCategory[]; paths: readonly string[] },
    signal?: AbortSignal,
  ): Promise<string[]>;
}

const timeoutMs = 30_000;
/** buf's exit code when it found something (0: nothing found; anything else: it failed). */
const foundSomething = 100;

export function createBufChecker(opts: { bufPath?: string } = {}): SchemaChecker {
  const command = opts.bufPath ? { file: opts.bufPath, args: [] } : defaultBuf();

  /** Writes the images to a temp dir and runs buf there; `paths` limits the check to the module's own files. */
  async function check(
    what: "breaking" | "lint",
    images: Record<string, Uint8Array>,
    args: string[],
    paths: readonly string[],
    signal: AbortSignal | undefined,
  ): Promise<string[]> {
    const dir = await mkdtemp(join(tmpdir(), `protodepot-${what}-`));
    try {
      for (const [name, bytes] of Object.entries(images)) await writeFile(join(dir, name), bytes);
      const result = await run(
        command,
        [what, ...args, "--error-format=json", ...paths.flatMap((p) => ["--path", p])],
        { cwd: dir, timeoutMs, signal },
      );
      return findings(what, result);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  return {
    breaking({ image, against, category, paths }, signal) {
      const config = JSON.stringify({ version: "v2", breaking: { use: [category] } });
      return check(
        "breaking",
        { "image.binpb": image, "against.binpb": against },
        ["image.binpb", "--against", "against.binpb", "--config", config],
        paths,
        signal,
      );
    },
    lint({ image, categories, paths }, signal) {
      const config = JSON.stringify({ version: "v2", lint: { use: categories } });
      return check("lint", { "image.binpb": image }, ["image.binpb", "--config", config], paths, signal);
    },
  };
}

function findings(what: string, result: RunResult): string[] {
  if (result.code === 0) return [];
  const lines: string[] = [];
  // Annotations come on stdout; failures of buf itself on stderr.
  for (const raw of `${result.stdout.toString("utf8")}\n${result.stderr}`.split("\n")) {
    const parsed = parseJson(raw.trim());
    if (!isAnnotation(parsed)) continue;
    const pos = parsed.start_line ? `:${parsed.start_line}:${parsed.start_column ?? 0}` : "";
    const rule = (parsed as { type?: unknown }).type;
    lines.push(`${parsed.path}${pos}: ${parsed.message}${typeof rule === "string" ? ` (${rule})` : ""}`);
  }
  if (result.code === foundSomething && lines.length > 0) return lines;
  throw new RegistryError(Code.Internal, `buf ${what} failed (exit ${result.code})`, {
    details: result.stderr.trim().split("\n").slice(-10),
  });
}
