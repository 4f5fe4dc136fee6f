// The Go module proxy's artifact: a deterministic module zip of the generated code plus a go.mod rendered from metadata.
import { Buffer } from "node:buffer";
import { posix } from "node:path";
import semver from "semver";
import { recordedDeprecation } from "../../core/deprecation.js";
import { Code, RegistryError } from "../../core/errors.js";
import { goModulePathProblem, goVersionProblem } from "../../core/runtime-libraries.js";
import { goVersion } from "../../core/synthetic-version.js";
import type { PluginVersion } from "../../core/types.js";
import { goModulePath } from "../../ecosystems/go/names.js";
import { createZip } from "../../packaging/zip.js";
import type { GeneratedFile, PackageContext, Packager } from "./packager.js";

/** The metadata a go.mod is rendered from: no generated file, so `.mod` is served without running plugins. */
export type GoModuleContext = Pick<
  PackageContext,
  "goHost" | "template" | "templateVersion" | "commit" | "deps" | "plugins"
>;

/**
 * The `go` directive when no plugin version asks for more. 1.17 is the first with module graph pruning (a consumer
 * then reads only our direct requirements' go.mod files, not grpc's whole tail) and is below every Go toolchain in
 * use, so Go ≥ 1.21 never tries to download a newer toolchain for generated code.
 */
export const defaultMinGoVersion = "1.17";

/** Go's module zip limits (golang.org/x/mod/zip): total uncompressed size and go.mod size. */
export const maxZipContentBytes = 500 * 1024 * 1024;
export const maxGoModBytes = 16 * 1024 * 1024;

const goVersionPattern = /^1\.(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))?$/;

/** `{ "go": { "minGoVersion": "1.21" } }` in a plugin version's registryOptions, validated. */
export function pluginMinGoVersion(plugin: PluginVersion): string | undefined {
  const go = plugin.registryOptions.go;
  if (typeof go !== "object" || go === null || !("minGoVersion" in go)) return undefined;
  const v = (go as { minGoVersion: unknown }).minGoVersion;
  if (typeof v !== "string" || !goVersionPattern.test(v)) {
    throw new RegistryError(
      Code.FailedPrecondition,
      `plugin ${plugin.owner}/${plugin.name}:${plugin.version} has registry option go.minGoVersion ${JSON.stringify(v)}: expected a Go version like "1.21"`,
      { plugin: `${plugin.owner}/${plugin.name}` },
    );
  }
  return v;
}

function compareGoVersions(a: string, b: string): number {
  const [a1 = 0, a2 = 0] = a.split(".").slice(1).map(Number);
  const [b1 = 0, b2 = 0] = b.split(".").slice(1).map(Number);
  return a1 - b1 || a2 - b2;
}

/** The highest minimum any plugin of the template version names, never below the default. */
export function minGoVersion(plugins: readonly PluginVersion[]): string {
  return plugins
    .map(pluginMinGoVersion)
    .reduce<string>((max, v) => (v && compareGoVersions(v, max) > 0 ? v : max), defaultMinGoVersion);
}

/** Go module versions are semver with a leading v (pseudo-versions are semver prereleases). */
function compareModuleVersions(a: string, b: string): number {
  const sa = semver.valid(a.replace(/^v/, ""));
  const sb = semver.valid(b.replace(/^v/, ""));
  if (sa && sb) return semver.compare(sa, sb);
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface GoRequirement {
  path: string;
  version: string;
  indirect: boolean;
}

export function goModuleOf(ctx: GoModuleContext): { path: string; version: string } {
  return {
    path: goModulePath({
      goHost: ctx.goHost,
      templateOwner: ctx.template.owner,
      templateName: ctx.template.name,
      moduleOwner: ctx.commit.owner,
      moduleName: ctx.commit.module,
    }),
    version: goVersion({ templateVersion: ctx.templateVersion.number, commitSeq: ctx.commit.seq }),
  };
}

/**
 * The requirements of a generated module: every Go runtime library of the template's plugins (the highest version
 * when two plugins name one module), and each dependency module's own generated module at the dependency commit's
 * synthetic version under the same template version. Transitive dependencies are listed too (as `// indirect`),
 * as Go ≥ 1.17 go.mod files do, so the versions this commit was compiled against are the ones consumers get.
 */
export function goRequirements(ctx: GoModuleContext): GoRequirement[] {
  const byPath = new Map<string, GoRequirement>();
  for (const plugin of ctx.plugins) {
    for (const lib of plugin.runtimeLibraries.go ?? []) {
      // Checked where plugin versions are accepted; asserted again here, where it would become a go.mod line.
      const problem = goModulePathProblem(lib.module) ?? goVersionProblem(lib.version);
      if (problem) {
        const label = `${plugin.owner}/${plugin.name}:${plugin.version}`;
        throw new RegistryError(
          Code.FailedPrecondition,
          `plugin ${label} has Go runtime library ${JSON.stringify(`${lib.module}@${lib.version}`)}, which is not a module path and version: ${problem}`,
          { plugin: `${plugin.owner}/${plugin.name}` },
        );
      }
      const seen = byPath.get(lib.module);
      if (!seen || compareModuleVersions(lib.version, seen.version) > 0) {
        byPath.set(lib.module, { path: lib.module, version: lib.version, indirect: false });
      }
    }
  }
  for (const dep of ctx.deps) {
    const path = goModulePath({
      goHost: ctx.goHost,
      templateOwner: ctx.template.owner,
      templateName: ctx.template.name,
      moduleOwner: dep.owner,
      moduleName: dep.module,
    });
    const version = goVersion({ templateVersion: ctx.templateVersion.number, commitSeq: dep.seq });
    byPath.set(path, { path, version, indirect: !dep.direct });
  }
  // Byte order, as `go mod tidy` sorts: the rendering never depends on the order plugins or deps were listed in.
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * go.mod of a generated module, in `go mod tidy`'s layout: direct requirements, then a block of indirect ones. A
 * `// Deprecated:` comment says what the commit and the template version recorded when they were made, never the
 * current state: a served version's bytes never change, and Go reads deprecation from the newest version's go.mod
 * (docs/lifecycle.md).
 */
export function renderGoMod(ctx: GoModuleContext): string {
  const { path } = goModuleOf(ctx);
  const reqs = goRequirements(ctx);
  const block = (list: GoRequirement[], suffix: string) =>
    list.length ? `\nrequire (\n${list.map((r) => `\t${r.path} ${r.version}${suffix}\n`).join("")})\n` : "";
  const deprecated = recordedDeprecation(ctx.commit, ctx.templateVersion);
  const comment = deprecated === undefined ? "" : `// Deprecated: ${deprecated}\n`;
  return `${comment}module ${path}\n\ngo ${minGoVersion(ctx.plugins)}\n${block(
    reqs.filter((r) => !r.indirect),
    "",
  )}${block(
    reqs.filter((r) => r.indirect),
    " // indirect",
  )}`;
}

// golang.org/x/mod/module.CheckFilePath, so a bad plugin output fails here with a clear message instead of in
// every consumer's `go mod download`.
const fileNameChar = /^[\p{L}0-9!#$%&()+,\-.=@[\]^_{}~ ]+$/u;
const windowsNames = /^(con|prn|aux|nul|com[1-9]|lpt[1-9])$/i;

export function checkGoFilePath(path: string): string | undefined {
  if (path === "" || path.startsWith("/") || path.endsWith("/") || posix.normalize(path) !== path)
    return "not a clean relative path";
  for (const elem of path.split("/")) {
    if (/^\.+$/.test(elem)) return `invalid path element "${elem}"`;
    if (elem.endsWith(".")) return `trailing dot in path element "${elem}"`;
    if (!fileNameChar.test(elem)) return `invalid character in path element "${elem}"`;
    if (windowsNames.test(elem.split(".")[0] ?? "")) return `"${elem}" is a reserved file name on Windows`;
  }
  return undefined;
}

/**
 * The zip bytes Go expects for one module version: entries `{module}@{version}/{path}`, sorted in byte order, no
 * directory entries, a fixed DOS time and mode, deflated. The DOS time is written from *local* date fields by yazl,
 * so the fixed instant is rebuilt from local fields to give the same bytes in every time zone, and the extended
 * (UTC) timestamp field is left out.
 */
export async function createGoModuleZip(
  modulePath: string,
  version: string,
  files: readonly GeneratedFile[],
): Promise<Uint8Array> {
  const prefix = `${modulePath}@${version}/`;
  const sorted = files
    .map((f) => ({ file: f, key: Buffer.from(f.path, "utf8") }))
    .sort((a, b) => Buffer.compare(a.key, b.key));
  const folded = new Map<string, string>();
  let total = 0;
  for (const { file } of sorted) {
    const problem = checkGoFilePath(file.path);
    if (problem)
      throw new RegistryError(
        Code.Unprocessable,
        `generated file "${file.path}" cannot be in a Go module zip: ${problem}`,
      );
    // Go refuses zips with paths that collide on case-insensitive file systems, files and directories alike.
    const parts = file.path.split("/");
    for (let i = 1; i <= parts.length; i++) {
      const p = parts.slice(0, i).join("/");
      const key = p.toLowerCase();
      const other = folded.get(key);
      const kind = i === parts.length ? "file" : "dir";
      if (other !== undefined && (other !== `${kind}:${p}` || kind === "file")) {
        throw new RegistryError(
          Code.Unprocessable,
          `generated files collide in a Go module zip (case-insensitive): "${p}"`,
        );
      }
      folded.set(key, `${kind}:${p}`);
    }
    total += file.content.byteLength;
  }
  if (total > maxZipContentBytes) {
    throw new RegistryError(
      Code.ResourceExhausted,
      `generated Go module is ${total} bytes; Go accepts at most ${maxZipContentBytes}`,
    );
  }
  return createZip(sorted.map(({ file }) => ({ path: `${prefix}${file.path}`, content: file.content })));
}

export const goPackager: Packager<"go"> = {
  flavour: "go",
  // Dependencies are modules of their own, required from go.mod, never copied in.
  fixedScope: "module",
  async package(files, ctx) {
    const { path, version } = goModuleOf(ctx);
    const goMod = renderGoMod(ctx);
    if (goMod.length > maxGoModBytes)
      throw new RegistryError(Code.ResourceExhausted, `go.mod of ${path} is over ${maxGoModBytes} bytes`);
    const entries: GeneratedFile[] = files.map((file) =>
      // Output written by import path (no paths=source_relative) lands inside the module by its path.
      file.path.startsWith(`${path}/`)
        ? { path: file.path.slice(path.length + 1), content: file.content }
        : file,
    );
    for (const e of entries) {
      if (posix.basename(e.path).toLowerCase() === "go.mod") {
        throw new RegistryError(
          Code.Unprocessable,
          `generated file "${e.path}" would be a go.mod; the registry writes the module's go.mod itself`,
        );
      }
    }
    entries.push({ path: "go.mod", content: new TextEncoder().encode(goMod) });
    return {
      bytes: await createGoModuleZip(path, version, entries),
      extra: { goModule: path, goVersion: version },
    };
  },
};
