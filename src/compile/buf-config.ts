// Reads what protodepot needs from a pushed buf.yaml (v1, v2) and buf.lock (v1, v2): name, root, deps, pins.
import { Buffer } from "node:buffer";
import { posix } from "node:path";
import { isMap, isScalar, LineCounter, parseDocument, visit } from "yaml";
import { Code, isRegistryError, RegistryError } from "../core/errors.js";
import { type FullName, isCommitId, parseFullName, parseModuleRef } from "../core/names.js";
import { pathProblem } from "./module-files.js";

export type ModuleDep = FullName & { ref?: string };

export interface BufConfig {
  version: "v1" | "v2";
  /** The module's name from buf.yaml, without its host. */
  name?: FullName;
  /** Directory of the module inside the pushed directory: "." for v1 and for v2 without `modules`. */
  root: string;
  /**
   * Direct dependencies, in buf.yaml order. The host in `host/owner/module` is dropped: every dependency is
   * looked up in this registry, so a buf.yaml written for buf.build works unchanged when its deps are mirrored.
   */
  deps: ModuleDep[];
  /** Commit ids from buf.lock by `owner/name`, transitive ones included (buf.lock lists them all). */
  pins: Map<string, string>;
  /**
   * The other named modules of a v2 workspace. Modules of one workspace import each other without listing
   * each other in `deps`; the push adds those it imports as dependencies.
   */
  workspace: FullName[];
}

export interface BufConfigInput {
  bufYaml: string;
  bufLock?: string;
  /** `[host/]owner/name`: picks a module of a v2 buf.yaml that declares several. */
  moduleName?: string;
}

export function parseBufConfig(input: BufConfigInput): BufConfig {
  const yaml = parseYaml("buf.yaml", input.bufYaml);
  const version = yaml.version;
  let config: Omit<BufConfig, "pins" | "workspace"> & { workspace?: FullName[] };
  if (version === "v1") config = parseV1(yaml);
  else if (version === "v2") config = parseV2(yaml, input.moduleName);
  else if (version === undefined) throw invalid("buf.yaml", "`version` is missing: use v1 or v2");
  else throw invalid("buf.yaml", `version ${JSON.stringify(version)} is not supported: use v1 or v2`);
  const pins = input.bufLock === undefined ? new Map<string, string>() : parseBufLock(input.bufLock);
  return { ...config, workspace: config.workspace ?? [], pins };
}

function parseV1(yaml: Record<string, unknown>): Omit<BufConfig, "pins" | "workspace"> {
  const config: Omit<BufConfig, "pins" | "workspace"> = {
    version: "v1",
    root: ".",
    deps: parseDeps(yaml.deps),
  };
  const name = parseName(yaml.name, "name");
  if (name) config.name = name;
  return config;
}

/**
 * A module name written in buf.yaml: HOST/OWNER/MODULE, as buf requires (it refuses a buf.yaml with `acme/pay`),
 * so a file protodepot accepts also works with buf. The host is dropped: every name is looked up here. Empty or
 * null is no name, as for buf.
 */
function parseName(value: unknown, where: string): FullName | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const text = asString(value, where);
  const parts = text.split("/");
  if (parts.length !== 3 || parts[0] === "") {
    const example = parts.length === 2 ? `buf.build/${text}` : "buf.build/acme/payments";
    throw invalid(
      "buf.yaml",
      `${where} ${JSON.stringify(text)} must be HOST/OWNER/MODULE, as buf requires (e.g. ${example}; the host is not checked)`,
    );
  }
  return wrap("buf.yaml", where, () => parseFullName("module", text, hostOk));
}

/** A module's directory as buf reads it (`./proto/`, `a/../proto` are `proto`), never outside the pushed one. */
function parseModulePath(value: unknown, where: string): string {
  if (value === undefined) return ".";
  const text = asString(value, where);
  if (text.startsWith("/")) throw invalid("buf.yaml", `${where} ${JSON.stringify(text)} is absolute`);
  const path = posix.normalize(text).replace(/\/+$/, "") || ".";
  if (path === ".." || path.startsWith("../"))
    throw invalid("buf.yaml", `${where} ${JSON.stringify(text)} is outside the directory pushed`);
  const problem = path === "." ? undefined : pathProblem(path);
  if (problem) throw invalid("buf.yaml", `${where} ${JSON.stringify(text)}: ${problem}`);
  return path;
}

function parseV2(
  yaml: Record<string, unknown>,
  wanted: string | undefined,
): Omit<BufConfig, "pins" | "workspace"> & { workspace?: FullName[] } {
  const deps = parseDeps(yaml.deps);
  const topName = parseName(yaml.name, "name");
  const entries = yaml.modules === undefined || yaml.modules === null ? [] : asArray(yaml.modules, "modules");
  // buf's rule: a top-level name names the one module at "." that a buf.yaml without modules has.
  if (entries.length === 0) return { version: "v2", root: ".", deps, ...(topName ? { name: topName } : {}) };
  if (topName) {
    throw invalid(
      "buf.yaml",
      "a top-level name cannot be used with `modules`: set `name` on each entry of `modules` instead " +
        '(the top-level name is only for a buf.yaml without `modules`, whose one module is at ".")',
    );
  }
  const names = new Set<string>();
  const paths = new Set<string>();
  const modules = entries.map((m, i) => {
    const where = `modules[${i}]`;
    const entry = asRecord(m, where);
    const path = parseModulePath(entry.path, `${where}.path`);
    if (paths.has(path)) throw invalid("buf.yaml", `modules lists path ${JSON.stringify(path)} twice`);
    paths.add(path);
    const module: { path: string; name?: FullName } = { path };
    const name = parseName(entry.name, `${where}.name`);
    if (name) {
      const key = `${name.owner}/${name.name}`;
      if (names.has(key)) throw invalid("buf.yaml", `modules lists the name ${key} twice`);
      names.add(key);
      module.name = name;
    }
    return module;
  });

  let chosen = modules.length === 1 ? modules[0] : undefined;
  if (wanted !== undefined) {
    const name = parseFullName("module", wanted, hostOk);
    chosen = modules.find((m) => m.name?.owner === name.owner && m.name.name === name.name) ?? chosen;
    if (modules.length > 1 && chosen === undefined) {
      throw invalid(
        "buf.yaml",
        `declares no module ${name.owner}/${name.name} (modules: ${describe(modules)})`,
      );
    }
  }
  if (chosen === undefined) {
    throw invalid(
      "buf.yaml",
      `declares ${modules.length} modules, name the one to push (modules: ${describe(modules)})`,
    );
  }
  const workspace = modules.flatMap((m) => (m !== chosen && m.name ? [m.name] : []));
  const config: Omit<BufConfig, "pins"> = { version: "v2", root: chosen.path, deps, workspace };
  if (chosen.name) config.name = chosen.name;
  return config;
}

function parseDeps(value: unknown): ModuleDep[] {
  if (value === undefined || value === null) return [];
  const seen = new Set<string>();
  return asArray(value, "deps").map((d, i) => {
    const dep = wrap("buf.yaml", `deps[${i}]`, () => parseModuleRef(asString(d, `deps[${i}]`)));
    const key = `${dep.owner}/${dep.name}`;
    if (seen.has(key)) throw invalid("buf.yaml", `deps lists ${key} twice`);
    seen.add(key);
    return dep;
  });
}

/** Pins by `owner/name`. v1 entries are `{remote, owner, repository, commit}`, v2 ones `{name, commit}`. */
export function parseBufLock(text: string): Map<string, string> {
  const lock = parseYaml("buf.lock", text);
  const version = lock.version ?? "v1";
  if (version !== "v1" && version !== "v2") {
    throw invalid("buf.lock", `version ${JSON.stringify(version)} is not supported: use v1 or v2`);
  }
  const pins = new Map<string, string>();
  if (lock.deps === undefined || lock.deps === null) return pins;
  for (const [i, d] of asArray(lock.deps, "deps", "buf.lock").entries()) {
    const where = `deps[${i}]`;
    const entry = asRecord(d, where, "buf.lock");
    const name = wrap("buf.lock", where, () =>
      version === "v1"
        ? parseFullName(
            "module",
            `${asString(entry.owner, `${where}.owner`, "buf.lock")}/${asString(entry.repository, `${where}.repository`, "buf.lock")}`,
          )
        : parseFullName("module", asString(entry.name, `${where}.name`, "buf.lock"), hostOk),
    );
    const commit = asString(entry.commit, `${where}.commit`, "buf.lock");
    if (!isCommitId(commit)) {
      throw invalid(
        "buf.lock",
        `${where}.commit ${JSON.stringify(commit)} is not a commit id (32 hex characters)`,
      );
    }
    const key = `${name.owner}/${name.name}`;
    if (pins.has(key)) throw invalid("buf.lock", `pins ${key} twice`);
    pins.set(key, commit);
  }
  return pins;
}

const hostOk = { allowHost: true };

type FileName = "buf.yaml" | "buf.lock";

/**
 * Size caps of the config files, checked before any parsing. Parsing is linear but not cheap (about 1 ms per
 * KiB here) and runs on the event loop; real files are a few KiB (a buf.lock entry is about 150 bytes).
 */
export const maxConfigBytes: Readonly<Record<FileName, number>> = {
  "buf.yaml": 64 << 10,
  "buf.lock": 256 << 10,
};

/** Aliases expand on conversion; a few nested ones are a "billion laughs". Config files need none of this. */
const maxAliasCount = 50;

/** Throws InvalidArgument when a config file is over its cap; call before decoding or parsing it. */
export function checkConfigSize(file: FileName, bytes: number): void {
  if (bytes > maxConfigBytes[file]) {
    throw invalid(
      file,
      `is ${bytes} bytes, more than the limit of ${maxConfigBytes[file]}: a ${file} holds a few keys`,
    );
  }
}

function parseYaml(file: FileName, text: string): Record<string, unknown> {
  checkConfigSize(file, Buffer.byteLength(text, "utf8"));
  // The library's own unique-key check compares every key with every earlier one (quadratic); ours is a set.
  const lines = new LineCounter();
  const doc = parseDocument(text, { logLevel: "silent", uniqueKeys: false, lineCounter: lines });
  const error = doc.errors[0];
  if (error) throw invalid(file, `is not valid YAML: ${error.message.split("\n")[0]}`);
  const duplicate = firstDuplicateKey(doc);
  if (duplicate !== undefined) {
    const { line, col } = lines.linePos(duplicate.offset);
    throw invalid(
      file,
      `is not valid YAML: key ${duplicate.key} appears twice (line ${line}, column ${col})`,
    );
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount });
  } catch (err) {
    // The library throws a ReferenceError for alias bombs; anything it throws here is about the input.
    throw invalid(file, `is not valid YAML: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (value === null || value === undefined) throw invalid(file, "is empty");
  return asRecord(value, "the document", file);
}

/** The first key that a mapping holds twice, in one pass over the document. */
function firstDuplicateKey(
  doc: ReturnType<typeof parseDocument>,
): { key: string; offset: number } | undefined {
  let found: { key: string; offset: number } | undefined;
  visit(doc, {
    Map(_, map) {
      if (!isMap(map)) return;
      const seen = new Set<unknown>();
      for (const item of map.items) {
        const key = isScalar(item.key) ? item.key.value : item.key;
        if (seen.has(key)) {
          const offset = isScalar(item.key) ? (item.key.range?.[0] ?? 0) : 0;
          found = { key: JSON.stringify(key) ?? String(key), offset };
          return visit.BREAK;
        }
        seen.add(key);
      }
    },
  });
  return found;
}

function asRecord(value: unknown, where: string, file: FileName = "buf.yaml"): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalid(file, `${where} must be a mapping, not ${kindOf(value)}`);
  }
  return value as Record<string, unknown>;
}

function asArray(value: unknown, where: string, file: FileName = "buf.yaml"): unknown[] {
  if (!Array.isArray(value)) throw invalid(file, `${where} must be a list, not ${kindOf(value)}`);
  return value;
}

function asString(value: unknown, where: string, file: FileName = "buf.yaml"): string {
  if (typeof value !== "string" || value === "") {
    throw invalid(file, `${where} must be a non-empty string, not ${kindOf(value)}`);
  }
  return value;
}

function kindOf(value: unknown): string {
  if (value === null || value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (value === "") return "an empty string";
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** Prefixes the file and the key to a name error from core/names.ts, which knows neither. */
function wrap<T>(file: FileName, where: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (isRegistryError(err, Code.InvalidArgument) && !err.message.startsWith(file)) {
      throw invalid(file, `${where}: ${err.message}`);
    }
    throw err;
  }
}

function describe(modules: readonly { path: string; name?: FullName }[]): string {
  return modules
    .map((m) => (m.name ? `${m.name.owner}/${m.name.name} at ${m.path}` : `unnamed at ${m.path}`))
    .join(", ");
}

function invalid(file: FileName, what: string): RegistryError {
  return new RegistryError(Code.InvalidArgument, `${file}: ${what}`);
}
