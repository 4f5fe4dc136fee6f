// The npm registry's artifact: generated JS + .d.ts under `package/`, a package.json, as a deterministic .tgz.
import { webcrypto } from "node:crypto";
import { posix } from "node:path";
import semver from "semver";
import { semverVersion } from "../../core/synthetic-version.js";
import type { PluginVersion } from "../../core/types.js";
import { type NpmPackageParts, npmPackageName } from "../../ecosystems/npm/names.js";
import { createTarGz } from "../../packaging/tar.js";
import type { GeneratedFile, PackageContext, Packager } from "./packager.js";

/** `dist.integrity` (SRI sha512) and `dist.shasum` (sha1 hex) of a tarball, as npm checks them. */
export async function npmIntegrity(bytes: Uint8Array): Promise<{ integrity: string; shasum: string }> {
  // A tarball is up to plugins.maxOutputBytes of a plugin's making: hashed off the event loop.
  const [sha512, sha1] = await Promise.all([
    webcrypto.subtle.digest("SHA-512", bytes),
    webcrypto.subtle.digest("SHA-1", bytes),
  ]);
  return {
    integrity: `sha512-${Buffer.from(sha512).toString("base64")}`,
    shasum: Buffer.from(sha1).toString("hex"),
  };
}

/**
 * Plugins built on @bufbuild/protoplugin (protoc-gen-es, protoc-gen-connect-es, connect-query…) understand
 * `target`, `import_extension` and `rewrite_imports`. Recognized by an explicit `registryOptions.npm.protoplugin`,
 * else by their runtime library: every such plugin's output imports @bufbuild/protobuf.
 */
export function isProtopluginPlugin(plugin: PluginVersion): boolean {
  const npm = plugin.registryOptions.npm;
  if (typeof npm === "object" && npm !== null && "protoplugin" in npm) {
    return (npm as { protoplugin: unknown }).protoplugin === true;
  }
  return (plugin.runtimeLibraries.npm ?? []).some((l) => l.package === "@bufbuild/protobuf");
}

const stem = (protoPath: string) => protoPath.replace(/\.proto$/, "");

/** The package each dependency commit's files live in, keyed by commit id. */
function dependencyPackages(ctx: PackageContext): Map<string, { name: string; version: string }> {
  const parts = (owner: string, module: string) => ({
    templateOwner: ctx.template.owner,
    templateName: ctx.template.name,
    moduleOwner: owner,
    moduleName: module,
  });
  return new Map(
    ctx.deps.map((d) => [
      d.commitId,
      {
        name: npmPackageName(ctx.npmScope, parts(d.owner, d.module)),
        version: semverVersion({ templateVersion: ctx.templateVersion.number, commitSeq: d.seq }),
      },
    ]),
  );
}

/**
 * Options forcing output that works from node_modules under TypeScript `nodenext` and `bundler` alike: JS with
 * declarations (a `.ts` file in node_modules is not compiled), `.js` import suffixes (Node's ESM resolver needs
 * them), and imports of dependency modules' files pointed at the dependency's own package. They come after the
 * template's parameter, so they win (protoplugin reads options in order, the last `target` counts).
 */
export function npmPluginOptions(plugin: PluginVersion, ctx: PackageContext): string[] {
  if (!isProtopluginPlugin(plugin)) return [];
  // `.js` rather than `js`: protoplugin 2.x accepts both, 1.x only the dotted form.
  const options = ["target=js+dts", "import_extension=.js"];
  const packages = dependencyPackages(ctx);
  for (const dep of ctx.deps) {
    const pkg = packages.get(dep.commitId);
    for (const file of ctx.protoFiles?.deps.get(dep.commitId) ?? []) {
      // A comma would split the parameter; such a file falls back to rewriteDependencyImports below.
      if (!pkg || file.includes(",") || file.includes(":")) continue;
      // protoplugin matches the import path before making it relative: `./demo/money/v1/money_pb.js`.
      options.push(`rewrite_imports=./${stem(file)}_pb.js:${pkg.name}`);
    }
  }
  return options;
}

const codeFile = /\.(?:[cm]?js|[cm]?ts)$/;
// `from "…"`, `import "…"`, `import("…")`, `require("…")` and `export … from "…"` with a relative specifier.
const relativeSpecifier = /(\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)(["'])(\.{1,2}\/[^"'\r\n]*)\2/g;

/**
 * The fallback for plugins that cannot rewrite imports themselves: a relative import that leaves this package and
 * lands on a file generated from a dependency's `.proto` (`{stem}_pb.js`, `{stem}.ts`, …) is pointed at the
 * dependency's package. Imports of this package's own files are left alone.
 */
export function rewriteDependencyImports(
  files: readonly GeneratedFile[],
  ctx: PackageContext,
): GeneratedFile[] {
  const protoFiles = ctx.protoFiles;
  if (!protoFiles || ctx.deps.length === 0) return [...files];
  const packages = dependencyPackages(ctx);
  const stems = new Map<string, string>();
  for (const [commitId, paths] of protoFiles.deps) {
    const pkg = packages.get(commitId);
    if (pkg) for (const p of paths) stems.set(stem(p), pkg.name);
  }
  const own = new Set(files.map((f) => f.path));
  const ownsPath = (p: string) =>
    own.has(p) ||
    [".js", ".ts", ".d.ts", ".mjs", ".cjs"].some(
      (ext) => own.has(p + ext) || own.has(p.replace(/\.js$/, ext)),
    );
  // `demo/money/v1/money_pb.js` → tries `money_pb`, then `money`: generated names extend the proto's stem.
  const dependencyOf = (target: string): string | undefined => {
    const dir = posix.dirname(target);
    const name = posix.basename(target).replace(/(\.d)?\.[cm]?[jt]s$/, "");
    for (
      let cut = name.length;
      cut > 0;
      cut = Math.max(name.lastIndexOf("_", cut - 1), name.lastIndexOf(".", cut - 1))
    ) {
      const pkg = stems.get(posix.join(dir, name.slice(0, cut)));
      if (pkg) return pkg;
    }
    return undefined;
  };
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const encoder = new TextEncoder();
  return files.map((file) => {
    if (!codeFile.test(file.path)) return file;
    let text: string;
    try {
      text = decoder.decode(file.content);
    } catch {
      return file;
    }
    let changed = false;
    const out = text.replace(relativeSpecifier, (whole, lead: string, quote: string, spec: string) => {
      const target = posix.normalize(posix.join(posix.dirname(file.path), spec));
      if (target.startsWith("../") || ownsPath(target)) return whole;
      const pkg = dependencyOf(target);
      if (!pkg) return whole;
      changed = true;
      return `${lead}${quote}${pkg}/${target}${quote}`;
    });
    return changed ? { path: file.path, content: encoder.encode(out) } : file;
  });
}

export interface NpmDependency {
  name: string;
  version: string;
}

/**
 * The runtime libraries of every plugin, then every dependency module's package at its pinned version. When two
 * plugins name the same library, the range with the higher minimum wins (it is the stricter requirement).
 */
export function npmDependencies(ctx: PackageContext): Record<string, string> {
  const deps = new Map<string, string>();
  for (const plugin of ctx.plugins) {
    for (const lib of plugin.runtimeLibraries.npm ?? []) {
      const prev = deps.get(lib.package);
      if (prev === undefined || semver.gt(minimum(lib.version), minimum(prev)))
        deps.set(lib.package, lib.version);
    }
  }
  for (const pkg of dependencyPackages(ctx).values()) deps.set(pkg.name, pkg.version);
  return Object.fromEntries([...deps].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function minimum(range: string): string {
  try {
    return semver.minVersion(range)?.version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
}

/**
 * package.json with a fixed key order and formatting, so its bytes (and the tarball's integrity) depend only
 * on the inputs. `exports` maps a path with or without `.js` to the file and its declarations: TypeScript's
 * `nodenext` and `bundler` resolution both read `types`, Node and bundlers `default`.
 */
export function renderPackageJson(ctx: PackageContext, dependencies: Record<string, string>): string {
  const parts = {
    templateOwner: ctx.template.owner,
    templateName: ctx.template.name,
    moduleOwner: ctx.commit.owner,
    moduleName: ctx.commit.module,
  };
  const manifest = {
    name: npmPackageName(ctx.npmScope, parts),
    version: semverVersion({ templateVersion: ctx.templateVersion.number, commitSeq: ctx.commit.seq }),
    description: npmDescription(parts, ctx.commit.id, ctx.templateVersion.number),
    type: "module",
    sideEffects: false,
    exports: {
      "./package.json": "./package.json",
      "./*.js": { types: "./*.d.ts", default: "./*.js" },
      "./*": { types: "./*.d.ts", default: "./*.js" },
    },
    dependencies,
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** One line naming what a package holds, shared by package.json and the packument. */
export function npmDescription(p: NpmPackageParts, commitId: string, templateVersion: number): string {
  return `Generated code of module ${p.moduleOwner}/${p.moduleName} (commit ${commitId}) by template ${p.templateOwner}/${p.templateName} v${templateVersion}`;
}

export const npmPackager: Packager<"npm"> = {
  flavour: "npm",
  // A package holds one module's files; dependency modules come as their own packages.
  fixedScope: "module",
  extraOptions: npmPluginOptions,
  async package(files, ctx) {
    const dependencies = npmDependencies(ctx);
    const encoder = new TextEncoder();
    const entries = [
      { path: "package/package.json", content: encoder.encode(renderPackageJson(ctx, dependencies)) },
      ...rewriteDependencyImports(files, ctx).map((f) => ({ path: `package/${f.path}`, content: f.content })),
    ];
    const bytes = await createTarGz(entries);
    // `dependencies` is kept beside the hashes so a packument is built from artifact records alone.
    return { bytes, extra: { ...(await npmIntegrity(bytes)), dependencies: JSON.stringify(dependencies) } };
  },
};
