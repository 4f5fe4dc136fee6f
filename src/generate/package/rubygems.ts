// The RubyGems registry's artifact: the generated files under lib/ as a deterministic .gem (a plain tar of
// metadata.gz, data.tar.gz and checksums.yaml.gz), with its quick spec built beside it. Names: ecosystems/rubygems/.
import { createHash } from "node:crypto";
import { deflateSync } from "node:zlib";
import { Code, RegistryError } from "../../core/errors.js";
import {
  type GemDependency,
  type GemSpec,
  parseRequirement,
  quickSpecMarshal,
  renderSpecYaml,
} from "../../ecosystems/rubygems/gemspec.js";
import { gemName, gemVersion } from "../../ecosystems/rubygems/names.js";
import { createTar, createTarGz, gzipDeterministic } from "../../packaging/tar.js";
import type { GeneratedFile, PackageContext, Packager } from "./packager.js";

/** protoc 3.21's Ruby output and google-protobuf 3.21 both run on Ruby 2.5 and later. */
export const requiredRubyVersion = ">= 2.5";

/** A dependency module's gem (same template) at the version its commit pins, for the catalog to generate first. */
export interface GemPin {
  /** `owner/name` of the template. */
  template: string;
  /** `owner/name` of the dependency module. */
  module: string;
  version: string;
}

const gemOf = (ctx: PackageContext, owner: string, module: string) =>
  gemName({
    templateOwner: ctx.template.owner,
    templateName: ctx.template.name,
    moduleOwner: owner,
    moduleName: module,
  });

function dependencyPins(ctx: PackageContext): { gem: string; pin: GemPin }[] {
  return ctx.deps.map((d) => ({
    gem: gemOf(ctx, d.owner, d.module),
    pin: {
      template: `${ctx.template.owner}/${ctx.template.name}`,
      module: `${d.owner}/${d.module}`,
      version: gemVersion({ templateVersion: ctx.templateVersion.number, commitSeq: d.seq }),
    },
  }));
}

/**
 * The gem's runtime dependencies: every plugin's Ruby runtime libraries in template order (a gem may name a
 * dependency once, so the clauses of one name are merged), then each dependency module's gem pinned `= 1.{t}.{seq}`,
 * sorted by name. Generated code requires dependency files by their proto path, which RubyGems finds on the
 * pinned gem's lib/.
 */
export function gemDependencies(ctx: PackageContext): GemDependency[] {
  const libs = new Map<string, string[]>();
  for (const plugin of ctx.plugins) {
    for (const lib of plugin.runtimeLibraries.ruby ?? []) {
      const clauses = libs.get(lib.package) ?? [];
      for (const [op, v] of parseRequirement(lib.version)) {
        const clause = `${op} ${v}`;
        if (!clauses.includes(clause)) clauses.push(clause);
      }
      libs.set(lib.package, clauses);
    }
  }
  const runtime = [...libs].map(([name, clauses]) => ({
    name,
    requirement: parseRequirement(clauses.join(",")),
  }));
  const pinned = dependencyPins(ctx)
    .map((d) => ({ name: d.gem, requirement: [["=", d.pin.version]] as GemDependency["requirement"] }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return [...runtime, ...pinned];
}

const byBytes = (a: { path: string }, b: { path: string }) =>
  Buffer.compare(Buffer.from(a.path, "utf8"), Buffer.from(b.path, "utf8"));

export function gemSpecOf(files: readonly GeneratedFile[], ctx: PackageContext): GemSpec {
  return {
    name: gemOf(ctx, ctx.commit.owner, ctx.commit.module),
    version: gemVersion({ templateVersion: ctx.templateVersion.number, commitSeq: ctx.commit.seq }),
    summary: `Generated code of module ${ctx.commit.owner}/${ctx.commit.module} (commit ${ctx.commit.id}) by template ${ctx.template.owner}/${ctx.template.name} v${ctx.templateVersion.number}`,
    dependencies: gemDependencies(ctx),
    files: [...files].sort(byBytes).map((f) => `lib/${f.path}`),
    requiredRubyVersion: parseRequirement(requiredRubyVersion),
  };
}

const hex = (algorithm: "sha256" | "sha512", bytes: Uint8Array) =>
  createHash(algorithm).update(bytes).digest("hex");

/** The .gem's bytes and its spec. Generated files go under lib/, which is the gem's only require path. */
export async function createGem(
  files: readonly GeneratedFile[],
  ctx: PackageContext,
): Promise<{ bytes: Uint8Array; spec: GemSpec }> {
  for (const f of files) {
    // The spec lists every file as a line of YAML; Psych would read a line break in a path as two entries.
    if (/[\r\n]/.test(f.path)) {
      throw new RegistryError(
        Code.Unprocessable,
        `generated file "${f.path}" cannot be in a gem: a line break in its path`,
      );
    }
  }
  const spec = gemSpecOf(files, ctx);
  const encoder = new TextEncoder();
  const metadata = gzipDeterministic(encoder.encode(renderSpecYaml(spec)));
  const data = await createTarGz(files.map((f) => ({ path: `lib/${f.path}`, content: f.content })));
  // What `gem build` writes and `gem install` checks each member against.
  const checksums = [
    "---",
    "SHA256:",
    `  metadata.gz: ${hex("sha256", metadata)}`,
    `  data.tar.gz: ${hex("sha256", data)}`,
    "SHA512:",
    `  metadata.gz: ${hex("sha512", metadata)}`,
    `  data.tar.gz: ${hex("sha512", data)}`,
    "",
  ].join("\n");
  const bytes = await createTar([
    { path: "metadata.gz", content: metadata },
    { path: "data.tar.gz", content: data },
    { path: "checksums.yaml.gz", content: gzipDeterministic(encoder.encode(checksums)) },
  ]);
  return { bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), spec };
}

export const rubygemsPackager: Packager<"rubygems"> = {
  flavour: "rubygems",
  // A gem holds one module's files; dependency modules are their own gems, pinned exactly.
  fixedScope: "module",
  async package(files, ctx) {
    const { bytes, spec } = await createGem(files, ctx);
    // The quick spec is deflated once here and kept: `gem install` caches it forever, so it is never rebuilt by a
    // later zlib that might deflate differently.
    const quickSpec = deflateSync(quickSpecMarshal(spec), { level: 9 });
    return {
      bytes,
      extra: {
        sha256: hex("sha256", bytes),
        dependencies: JSON.stringify(spec.dependencies.map((d) => [d.name, d.requirement])),
        quickSpec: Buffer.from(quickSpec).toString("base64"),
        pins: JSON.stringify(dependencyPins(ctx).map((d) => d.pin)),
      },
    };
  },
};
