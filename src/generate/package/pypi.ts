// The PyPI registry's artifact: the generated files as a deterministic wheel (PEP 427) with METADATA 2.1, WHEEL and
// RECORD. Project, version and wheel names: ecosystems/pypi/names.ts.
import { createHash } from "node:crypto";
import { Code, RegistryError } from "../../core/errors.js";
import {
  pypiProjectName,
  pypiVersion,
  wheelDistribution,
  wheelFileName,
} from "../../ecosystems/pypi/names.js";
import { createZip } from "../../packaging/zip.js";
import type { GeneratedFile, PackageContext, Packager } from "./packager.js";

/** What `Requires-Python` says: protobuf 4.21, the oldest runtime protoc 3.21's output works with, needs 3.7. */
export const requiresPython = ">=3.7";

/** A dependency module's project (same template) at the version its commit pins, for the catalog to generate first. */
export interface PypiPin {
  /** `owner/name` of the template. */
  template: string;
  /** `owner/name` of the dependency module. */
  module: string;
  version: string;
}

function dependencyPins(ctx: PackageContext): { project: string; pin: PypiPin }[] {
  const base = ctx.pypiBase;
  // The base template's wheel of this very commit: it holds the files this wheel's plugins build on.
  const basePin = base
    ? [
        {
          project: pypiProjectName({
            template: base.template,
            module: { owner: ctx.commit.owner, name: ctx.commit.module },
          }),
          pin: {
            template: `${base.template.owner}/${base.template.name}`,
            module: `${ctx.commit.owner}/${ctx.commit.module}`,
            version: pypiVersion({ templateVersion: base.templateVersion, commitSeq: ctx.commit.seq }),
          },
        },
      ]
    : [];
  return [
    ...basePin,
    ...ctx.deps.map((d) => ({
      project: pypiProjectName({
        template: { owner: ctx.template.owner, name: ctx.template.name },
        module: { owner: d.owner, name: d.module },
      }),
      pin: {
        template: `${ctx.template.owner}/${ctx.template.name}`,
        module: `${d.owner}/${d.module}`,
        version: pypiVersion({ templateVersion: ctx.templateVersion.number, commitSeq: d.seq }),
      },
    })),
  ];
}

/**
 * `Requires-Dist` lines: every plugin's Python runtime libraries (in template order, repeats dropped; differing
 * specifiers of one project all stay, and pip requires all of them), then the base template's project of this
 * commit (when it has a base) and each dependency module's project, pinned exactly, by name.
 */
export function pypiRequiresDist(ctx: PackageContext): string[] {
  const lines: string[] = [];
  for (const plugin of ctx.plugins) {
    for (const lib of plugin.runtimeLibraries.python ?? []) {
      const line = `${lib.package}${lib.version.trim()}`;
      if (!lines.includes(line)) lines.push(line);
    }
  }
  const deps = dependencyPins(ctx)
    .map((d) => `${d.project}==${d.pin.version}`)
    .sort();
  return [...lines, ...deps];
}

export function pypiSummary(ctx: PackageContext): string {
  return `Generated code of module ${ctx.commit.owner}/${ctx.commit.module} (commit ${ctx.commit.id}) by template ${ctx.template.owner}/${ctx.template.name} v${ctx.templateVersion.number}`;
}

/** METADATA (core metadata 2.1): fixed field order, only values from the inputs. */
export function renderMetadata(ctx: PackageContext): string {
  const project = pypiProjectName({
    template: { owner: ctx.template.owner, name: ctx.template.name },
    module: { owner: ctx.commit.owner, name: ctx.commit.module },
  });
  const version = pypiVersion({ templateVersion: ctx.templateVersion.number, commitSeq: ctx.commit.seq });
  const lines = [
    "Metadata-Version: 2.1",
    `Name: ${project}`,
    `Version: ${version}`,
    `Summary: ${pypiSummary(ctx)}`,
    `Requires-Python: ${requiresPython}`,
    ...pypiRequiresDist(ctx).map((r) => `Requires-Dist: ${r}`),
  ];
  return `${lines.join("\n")}\n`;
}

const wheelFile = "Wheel-Version: 1.0\nGenerator: protodepot\nRoot-Is-Purelib: true\nTag: py3-none-any\n";

/** RECORD's hash form: sha256, urlsafe base64 without padding. */
export function recordHash(bytes: Uint8Array): string {
  return `sha256=${createHash("sha256").update(bytes).digest("base64url")}`;
}

/** One RECORD field, quoted as Python's csv module writes it when it holds a comma or a quote. */
function csvField(text: string): string {
  return /[",]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const byBytes = (a: { path: string }, b: { path: string }) =>
  Buffer.compare(Buffer.from(a.path, "utf8"), Buffer.from(b.path, "utf8"));

/**
 * The wheel's bytes and METADATA. Generated files first, sorted by path in byte order, then the dist-info files,
 * RECORD last (as pip and wheel write them), every entry with one fixed time and mode.
 */
/** What unzip tools (and yazl) take for an absolute Windows path: a drive letter and a colon first. */
const windowsDrive = /^[a-zA-Z]:/;

export async function createWheel(
  files: readonly GeneratedFile[],
  ctx: PackageContext,
): Promise<{ bytes: Uint8Array; metadata: string; fileName: string }> {
  const project = pypiProjectName({
    template: { owner: ctx.template.owner, name: ctx.template.name },
    module: { owner: ctx.commit.owner, name: ctx.commit.module },
  });
  const version = pypiVersion({ templateVersion: ctx.templateVersion.number, commitSeq: ctx.commit.seq });
  const distInfo = `${wheelDistribution(project)}-${version}.dist-info`;
  for (const f of files) {
    const why = /[\r\n]/.test(f.path)
      ? "a line break in its path"
      : f.path.split("/")[0]?.endsWith(".dist-info")
        ? "it is inside a .dist-info directory"
        : windowsDrive.test(f.path)
          ? `zip tools read "${f.path.slice(0, 2)}" as a Windows drive`
          : undefined;
    if (why)
      throw new RegistryError(Code.Unprocessable, `generated file "${f.path}" cannot be in a wheel: ${why}`);
  }
  const encoder = new TextEncoder();
  const metadata = renderMetadata(ctx);
  const entries = [
    ...[...files].sort(byBytes),
    { path: `${distInfo}/METADATA`, content: encoder.encode(metadata) },
    { path: `${distInfo}/WHEEL`, content: encoder.encode(wheelFile) },
  ];
  const record = [
    ...entries.map((e) => `${csvField(e.path)},${recordHash(e.content)},${e.content.byteLength}`),
    `${distInfo}/RECORD,,`,
  ];
  entries.push({ path: `${distInfo}/RECORD`, content: encoder.encode(`${record.join("\n")}\n`) });
  return { bytes: await createZip(entries), metadata, fileName: wheelFileName(project, version) };
}

export const pypiPackager: Packager<"pypi"> = {
  flavour: "pypi",
  // A wheel holds one module's files; dependency modules are their own projects, pinned in Requires-Dist.
  fixedScope: "module",
  async package(files, ctx) {
    const wheel = await createWheel(files, ctx);
    const sha256 = createHash("sha256").update(wheel.bytes).digest("hex");
    const metadataSha256 = createHash("sha256").update(wheel.metadata).digest("hex");
    // Kept beside the hashes so an index page and the .metadata file are served from the record alone.
    return {
      bytes: wheel.bytes,
      extra: {
        sha256,
        metadata: wheel.metadata,
        metadataSha256,
        pins: JSON.stringify(dependencyPins(ctx).map((d) => d.pin)),
      },
    };
  },
};
