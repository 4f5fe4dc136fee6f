// Loads the configuration: defaults < file < environment (PROTODEPOT_ + key path in UPPER_SNAKE) < overrides.
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { Code, RegistryError } from "../core/errors.js";
import { type Config, configSchema } from "./schema.js";

type Tree = { [key: string]: unknown };

const isTree = (v: unknown): v is Tree => typeof v === "object" && v !== null && !Array.isArray(v);

/** `server.publicUrl` → `PROTODEPOT_SERVER_PUBLIC_URL`. */
export function envName(path: readonly string[]): string {
  return `PROTODEPOT_${path.map((p) => p.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()).join("_")}`;
}

interface Leaf {
  path: string[];
  /** Text settings (names, URLs, secrets) keep digits and "true" as written. */
  text: boolean;
  /** Lists (auth.oidc) are given as JSON. */
  json?: boolean;
}

/** Every leaf key of the schema, found by walking its shape. */
function leaves(schema: z.ZodType, prefix: string[] = []): Leaf[] {
  let s: z.ZodType = schema;
  while (
    s instanceof z.ZodDefault ||
    s instanceof z.ZodPrefault ||
    s instanceof z.ZodOptional ||
    s instanceof z.ZodPipe
  ) {
    s = (s instanceof z.ZodPipe ? s.in : s.unwrap()) as z.ZodType;
  }
  if (s instanceof z.ZodObject) {
    return Object.entries(s.shape as Record<string, z.ZodType>).flatMap(([k, v]) =>
      leaves(v, [...prefix, k]),
    );
  }
  if (s instanceof z.ZodArray) return [{ path: prefix, text: false, json: true }];
  const text = s instanceof z.ZodString || s instanceof z.ZodStringFormat || s instanceof z.ZodEnum;
  return [{ path: prefix, text }];
}

function setPath(tree: Tree, path: readonly string[], value: unknown): void {
  let node = tree;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (isTree(next)) {
      node = next;
    } else {
      const created: Tree = {};
      node[key] = created;
      node = created;
    }
  }
  node[path[path.length - 1] ?? ""] = value;
}

function merge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const prev = out[k];
    out[k] = isTree(prev) && isTree(v) ? merge(prev, v) : v;
  }
  return out;
}

function envTree(env: NodeJS.ProcessEnv): Tree {
  const tree: Tree = {};
  for (const { path, text, json } of leaves(configSchema)) {
    const raw = env[envName(path)];
    if (raw === undefined || raw === "") continue;
    let value: unknown = raw;
    if (json) value = parseJsonEnv(envName(path), raw);
    else if (text) value = raw;
    else if (raw === "true" || raw === "false") value = raw === "true";
    else if (/^-?\d+$/.test(raw)) value = Number(raw);
    setPath(tree, path, value);
  }
  return tree;
}

function parseJsonEnv(name: string, raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (err) {
    throw new RegistryError(
      Code.InvalidArgument,
      `${name} must hold JSON (a list): ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

export interface LoadOptions {
  file?: string;
  env?: NodeJS.ProcessEnv;
  overrides?: Tree;
}

/** Invalid configuration fails here, at start, with every problem listed. */
export function loadConfig(opts: LoadOptions = {}): Config {
  let fileTree: Tree = {};
  if (opts.file) {
    let text: string;
    try {
      text = readFileSync(opts.file, "utf8");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new RegistryError(
        Code.InvalidArgument,
        code === "ENOENT"
          ? `config file ${opts.file} does not exist: check the path given to --config`
          : `config file ${opts.file} cannot be read: ${(err as Error).message}`,
      );
    }
    const parsed: unknown = parseYaml(text);
    if (parsed !== null && !isTree(parsed)) {
      throw new RegistryError(Code.InvalidArgument, `config file ${opts.file} must hold a mapping`);
    }
    fileTree = parsed ?? {};
  }
  const input = merge(merge(fileTree, envTree(opts.env ?? process.env)), opts.overrides ?? {});
  const result = configSchema.safeParse(input);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new RegistryError(Code.InvalidArgument, `invalid configuration:\n  ${lines.join("\n  ")}`, {
      details: lines,
    });
  }
  return result.data;
}
