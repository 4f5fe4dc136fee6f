// The Cargo registry's artifact: a `.crate` (deterministic tar.gz of `{name}-{version}/Cargo.toml` and
// `{name}-{version}/src/…`) whose `src/lib.rs` is a module tree over the generated `{package}.rs` files, with the
// plugins' Rust runtime libraries and each dependency module's crate as dependencies. Names: ecosystems/cargo.
import { createHash } from "node:crypto";
import { Code, RegistryError } from "../../core/errors.js";
import type { PluginVersion } from "../../core/types.js";
import {
  type CrateParts,
  cargoCrateName,
  cargoLibName,
  cargoVersion,
  rustModuleName,
} from "../../ecosystems/cargo/names.js";
import { createTarGz } from "../../packaging/tar.js";
import type { GeneratedFile, PackageContext, Packager } from "./packager.js";

/** Where cargo's crates.io dependencies come from, as an index line names them. */
export const cratesIoIndex = "https://github.com/rust-lang/crates.io-index";

/** One dependency of a crate, as the sparse index's line writes it (field order fixed). */
export interface CargoIndexDep {
  name: string;
  req: string;
  features: string[];
  optional: boolean;
  default_features: boolean;
  target: null;
  kind: "normal";
  /** Absent: the same registry (our crates); crates.io otherwise. */
  registry?: string;
}

/** A dependency module's crate (same template) at the version its commit pins, for the catalog to generate first. */
export interface CargoPin {
  /** `owner/name` of the template. */
  template: string;
  /** `owner/name` of the dependency module. */
  module: string;
  version: string;
}

function partsOf(ctx: PackageContext, module: { owner: string; name: string }): CrateParts {
  return { template: { owner: ctx.template.owner, name: ctx.template.name }, module };
}

/** The crate name of a (template, module), or Unprocessable: cargo refuses names starting with a digit. */
function crateNameOf(ctx: PackageContext, module: { owner: string; name: string }): string {
  const name = cargoCrateName(partsOf(ctx, module));
  if (name === undefined) {
    throw new RegistryError(
      Code.Unprocessable,
      `template ${ctx.template.owner}/${ctx.template.name} cannot make crates: cargo refuses package names starting with a digit`,
    );
  }
  return name;
}

const hasRust = (plugin: PluginVersion) => (plugin.runtimeLibraries.rust?.length ?? 0) > 0;

/**
 * Dependency modules' files live in the dependency's crate: plugins with a Rust runtime library (prost-style)
 * get `extern_file={file}={library}` for every `.proto` file of every dependency module (transitive ones too).
 */
export function cargoPluginOptions(plugin: PluginVersion, ctx: PackageContext): string[] {
  if (!hasRust(plugin)) return [];
  const options: string[] = [];
  for (const dep of ctx.deps) {
    const lib = cargoLibName(crateNameOf(ctx, { owner: dep.owner, name: dep.module }));
    for (const file of ctx.protoFiles?.deps.get(dep.commitId) ?? []) {
      // A comma would split the parameter, a second `=` the option: such a file's package is left unmapped.
      if (file.includes(",") || file.includes("=")) continue;
      options.push(`extern_file=${file}=${lib}`);
    }
  }
  return options;
}

/** The index line's dependencies: runtime libraries (crates.io) in template order, then dependency crates. */
export function cargoDependencies(ctx: PackageContext): { deps: CargoIndexDep[]; pins: CargoPin[] } {
  const runtime = new Map<string, string[]>();
  for (const plugin of ctx.plugins) {
    for (const lib of plugin.runtimeLibraries.rust ?? []) {
      const reqs = runtime.get(lib.crate) ?? [];
      if (!reqs.includes(lib.version.trim())) reqs.push(lib.version.trim());
      runtime.set(lib.crate, reqs);
    }
  }
  const common = {
    features: [],
    optional: false,
    default_features: true,
    target: null,
    kind: "normal",
  } as const;
  const deps: CargoIndexDep[] = [...runtime].map(([name, reqs]) => ({
    name,
    req: reqs.join(", "),
    ...common,
    features: [],
    registry: cratesIoIndex,
  }));
  const pins: CargoPin[] = [];
  for (const d of ctx.deps) {
    const version = cargoVersion({ templateVersion: ctx.templateVersion.number, commitSeq: d.seq });
    deps.push({
      name: crateNameOf(ctx, { owner: d.owner, name: d.module }),
      req: `=${version}`,
      ...common,
      features: [],
    });
    pins.push({
      template: `${ctx.template.owner}/${ctx.template.name}`,
      module: `${d.owner}/${d.module}`,
      version,
    });
  }
  return { deps, pins };
}

/** A TOML basic string: JSON's escapes are TOML's (\", \\, \n, \uXXXX, …). */
const tomlString = (text: string) => JSON.stringify(text);

export function renderCargoToml(ctx: PackageContext, name: string, deps: readonly CargoIndexDep[]): string {
  const version = cargoVersion({ templateVersion: ctx.templateVersion.number, commitSeq: ctx.commit.seq });
  const description =
    `Generated code of module ${ctx.commit.owner}/${ctx.commit.module} (commit ${ctx.commit.id}) ` +
    `by template ${ctx.template.owner}/${ctx.template.name} v${ctx.templateVersion.number}`;
  const lines = [
    "# Generated by protodepot: do not edit.",
    "[package]",
    `name = ${tomlString(name)}`,
    `version = ${tomlString(version)}`,
    'edition = "2021"',
    `description = ${tomlString(description)}`,
    "",
    "[lib]",
    'path = "src/lib.rs"',
  ];
  // Crates.io and same-registry dependencies alike without `registry`: cargo resolves both from the index line.
  for (const d of deps) lines.push("", `[dependencies.${d.name}]`, `version = ${tomlString(d.req)}`);
  return `${lines.join("\n")}\n`;
}

interface ModuleNode {
  include?: string;
  children: Map<string, ModuleNode>;
}

/**
 * `src/lib.rs`: one nested `pub mod` per package component over the generated top-level `{package}.rs` files
 * (prost's names; `_.rs` is the package-less file, included at the root). Within a crate prost refers to other
 * packages relatively (`super::…`), so the tree mirrors packages exactly.
 */
export function renderLibRs(files: readonly GeneratedFile[], header: string): string {
  const root: ModuleNode = { children: new Map() };
  for (const f of files) {
    if (f.path.includes("/") || !f.path.endsWith(".rs")) continue;
    const stem = f.path.slice(0, -".rs".length);
    if (stem === "_") {
      root.include = f.path;
      continue;
    }
    let node = root;
    for (const component of stem.split(".")) {
      const mod = rustModuleName(component);
      if (mod === undefined) {
        throw new RegistryError(
          Code.Unprocessable,
          `generated file "${f.path}" does not name a package of lowercase snake_case components, which a crate's module tree needs`,
        );
      }
      let child = node.children.get(mod);
      if (!child) {
        child = { children: new Map() };
        node.children.set(mod, child);
      }
      node = child;
    }
    node.include = f.path;
  }
  const out: string[] = [header];
  const render = (node: ModuleNode, depth: number) => {
    const pad = "    ".repeat(depth);
    if (node.include !== undefined) out.push(`${pad}include!(${JSON.stringify(node.include)});`);
    const names = [...node.children.keys()].sort();
    for (const name of names) {
      const child = node.children.get(name);
      if (!child) continue;
      out.push(`${pad}pub mod ${name} {`);
      render(child, depth + 1);
      out.push(`${pad}}`);
    }
  };
  render(root, 0);
  return `${out.join("\n")}\n`;
}

/** The `.crate` bytes: entries under `{name}-{version}/`, sorted and with fixed metadata by createTarGz. */
export async function createCrate(
  files: readonly GeneratedFile[],
  ctx: PackageContext,
): Promise<{ bytes: Uint8Array; name: string; version: string; deps: CargoIndexDep[]; pins: CargoPin[] }> {
  const name = crateNameOf(ctx, { owner: ctx.commit.owner, name: ctx.commit.module });
  if (!ctx.plugins.some(hasRust)) {
    // Another language's output in a crate would build to nothing: say so instead of serving an empty library.
    throw new RegistryError(
      Code.Unprocessable,
      `template ${ctx.template.owner}/${ctx.template.name} runs no plugin with a Rust runtime library (--runtime-lib rust:CRATE@REQUIREMENT): it makes no crates`,
    );
  }
  const version = cargoVersion({ templateVersion: ctx.templateVersion.number, commitSeq: ctx.commit.seq });
  for (const f of files) {
    if (f.path === "lib.rs") {
      throw new RegistryError(
        Code.Unprocessable,
        `generated file "lib.rs" would replace the crate's module tree`,
      );
    }
  }
  const { deps, pins } = cargoDependencies(ctx);
  const encoder = new TextEncoder();
  const root = `${name}-${version}`;
  const header = `// Generated by protodepot: the module tree of ${name} ${version}.`;
  const bytes = await createTarGz([
    { path: `${root}/Cargo.toml`, content: encoder.encode(renderCargoToml(ctx, name, deps)) },
    { path: `${root}/src/lib.rs`, content: encoder.encode(renderLibRs(files, header)) },
    ...files.map((f) => ({ path: `${root}/src/${f.path}`, content: f.content })),
  ]);
  return { bytes, name, version, deps, pins };
}

export const cargoPackager: Packager<"cargo"> = {
  flavour: "cargo",
  // A crate holds one module's files; dependency modules are their own crates, pinned exactly.
  fixedScope: "module",
  extraOptions: cargoPluginOptions,
  async package(files, ctx) {
    const crate = await createCrate(files, ctx);
    // The index line needs the checksum and dependencies: kept beside the artifact, so the index is served from
    // records alone.
    return {
      bytes: crate.bytes,
      extra: {
        cksum: createHash("sha256").update(crate.bytes).digest("hex"),
        deps: JSON.stringify(crate.deps),
        pins: JSON.stringify(crate.pins),
      },
    };
  },
};
