// Schema checks over stored images with the real buf: `buf breaking` against an earlier image, `buf lint`.
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, RegistryError } from "../core/errors.js";
import type { BreakingCategory, LintCategory } from "../core/types.js";
import { defaultBuf, isAnnotation, parseJson } from "./buf-compiler.js";
import { type BufResult, type BufRunner, createBufRunner } from "./buf-runner.js";

export interface SchemaChecker {
  /** Breaking changes of `image` against `against` in one category, as `file:line:col: message (RULE)` lines. */
  breaking(
    input: {
      image: Uint8Array;
      against: Uint8Array;
      category: BreakingCategory;
      paths: readonly string[];
      /** Who pushes: checks share the compile slots, scheduled fairly across pushers. */
      pusher?: string;
    },
    signal?: AbortSignal,
  ): Promise<string[]>;
  /** Lint findings of `image`, as `file:line:col: message (RULE)` lines. */
  lint(
    input: {
      image: Uint8Array;
      categories: readonly LintCategory[];
      paths: readonly string[];
      pusher?: string;
    },
    signal?: AbortSignal,
  ): Promise<string[]>;
}

/** buf's exit code when it found something (0: nothing found; anything else: it failed). */
const foundSomething = 100;

export function createBufChecker(opts: { runner?: BufRunner; bufPath?: string } = {}): SchemaChecker {
  const runner =
    opts.runner ?? createBufRunner({ buf: opts.bufPath ? { file: opts.bufPath, args: [] } : defaultBuf() });

  /** Writes the images to a temp dir and runs buf there; `paths` limits the check to the module's own files. */
  async function check(
    what: "breaking" | "lint",
    images: Record<string, Uint8Array>,
    args: string[],
    paths: readonly string[],
    pusher: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<string[]> {
    const dir = await mkdtemp(join(tmpdir(), `protodepot-${what}-`));
    try {
      // Bound read-only into the sandbox, whose user (nobody) must be able to read it.
      await chmod(dir, 0o755);
      for (const [name, bytes] of Object.entries(images)) {
        await writeFile(join(dir, name), bytes, { mode: 0o644 });
      }
      const result = await runner.run({
        pusher: pusher ?? "",
        what,
        args: [what, ...args, "--error-format=json", ...paths.flatMap((p) => ["--path", p])],
        dir,
        signal,
      });
      return findings(what, result);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  return {
    breaking({ image, against, category, paths, pusher }, signal) {
      const config = JSON.stringify({ version: "v2", breaking: { use: [category] } });
      return check(
        "breaking",
        { "image.binpb": image, "against.binpb": against },
        ["image.binpb", "--against", "against.binpb", "--config", config],
        paths,
        pusher,
        signal,
      );
    },
    lint({ image, categories, paths, pusher }, signal) {
      const config = JSON.stringify({ version: "v2", lint: { use: categories } });
      return check(
        "lint",
        { "image.binpb": image },
        ["image.binpb", "--config", config],
        paths,
        pusher,
        signal,
      );
    },
  };
}

function findings(what: string, result: BufResult): string[] {
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
