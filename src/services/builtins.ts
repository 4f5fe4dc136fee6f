// Built-in plugins and templates of the embedded default: whatever code generators this machine has.
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import semver from "semver";
import { Code, isRegistryError } from "../core/errors.js";
import type { ProtocGenerator, RuntimeLibraries, TemplateVersion, User } from "../core/types.js";
import type { Protoc } from "../plugins/protoc/protoc-runtime.js";
import type { Principal } from "./auth.js";
import { debianVersion, hostVersion, revisionVersion } from "./host-versions.js";
import type { OrganizationService } from "./organizations.js";
import { resolveCommand } from "./plugin-sources.js";
import type { PluginService } from "./plugins.js";
import type { TemplateService } from "./templates.js";

const require = createRequire(import.meta.url);

export interface BuiltinPlugin {
  owner: string;
  name: string;
  version: string;
  /** A host command, or one of protoc's built-in generators. */
  run: { command: string[] } | { protocGenerator: ProtocGenerator };
  runtimeLibraries: RuntimeLibraries;
  registryOptions?: Record<string, unknown>;
}

export interface BuiltinTemplate {
  owner: string;
  name: string;
  plugins: { owner: string; name: string; parameter: string }[];
}

/** The owner of the built-in templates: `protodepot/es`, `protodepot/go`, `protodepot/go-grpc`. */
export const builtinTemplateOwner = "protodepot";

/** protoc's built-in generators registered as protocolbuffers/{generator}, and the runtime each one's output needs. */
const protocPlugins: { generator: ProtocGenerator; runtimeLibraries: (v: string) => RuntimeLibraries }[] = [
  // protoc 3.21's Python output builds descriptors with google.protobuf.internal.builder, new in protobuf 3.20.
  { generator: "python", runtimeLibraries: () => ({ python: [{ package: "protobuf", version: ">=3.20" }] }) },
  { generator: "pyi", runtimeLibraries: () => ({}) },
  {
    generator: "java",
    runtimeLibraries: (v) => ({
      maven: [{ groupId: "com.google.protobuf", artifactId: "protobuf-java", version: v }],
    }),
  },
  {
    generator: "kotlin",
    runtimeLibraries: (v) => ({
      maven: [{ groupId: "com.google.protobuf", artifactId: "protobuf-kotlin", version: v }],
    }),
  },
  { generator: "cpp", runtimeLibraries: () => ({}) },
  { generator: "csharp", runtimeLibraries: () => ({}) },
  { generator: "objc", runtimeLibraries: () => ({}) },
  // protoc 3.21's Ruby output builds descriptors with the DescriptorPool DSL, which the 4.x runtime dropped.
  {
    generator: "ruby",
    runtimeLibraries: () => ({ ruby: [{ package: "google-protobuf", version: "~> 3.21" }] }),
  },
  // Its output embeds descriptors as raw bytes (not UTF-8): generation carries file content as bytes.
  { generator: "php", runtimeLibraries: () => ({}) },
];

/** What detection finds, filled in by one function per source. */
interface Builtins {
  plugins: BuiltinPlugin[];
  templates: BuiltinTemplate[];
}

/**
 * protoc-gen-es from our own dependencies always; Debian's Go plugins when they are on PATH; our prost plugin
 * (protodepot/rust) when plugins/rust-prost/build.sh has built it or it is on PATH; protoc's built-in
 * generators (and the python, java, ruby and cpp templates) when the server has protoc, with Debian's gRPC plugins for
 * Python, Ruby and C++ (and protodepot/python-grpc, ruby-grpc, cpp-grpc) when those are installed too.
 */
export async function detectBuiltins(
  opts: { protoc?: Protoc | undefined } = {},
): Promise<{ plugins: BuiltinPlugin[]; templates: BuiltinTemplate[] }> {
  const found: Builtins = { plugins: [], templates: [] };
  addEs(found);
  await addGo(found);
  await addRust(found);
  if (opts.protoc) await addProtoc(found, opts.protoc);
  return found;
}

/** protoc-gen-es from our own dependencies: always there. */
function addEs(found: Builtins): void {
  const { plugins, templates } = found;
  const esPackage = require.resolve("@bufbuild/protoc-gen-es/package.json");
  const es = JSON.parse(readFileSync(esPackage, "utf8")) as { version: string; bin: Record<string, string> };
  const esBin = realpathSync(
    require.resolve(`@bufbuild/protoc-gen-es/${es.bin["protoc-gen-es"]?.replace(/^\.\//, "")}`),
  );
  plugins.push({
    owner: "bufbuild",
    name: "es",
    version: `v${es.version}`,
    run: { command: [esBin] },
    runtimeLibraries: { npm: [{ package: "@bufbuild/protobuf", version: `^${es.version}` }] },
  });
  templates.push({
    owner: builtinTemplateOwner,
    name: "es",
    plugins: [{ owner: "bufbuild", name: "es", parameter: "target=ts" }],
  });
}

/** Debian's Go plugins (and gRPC for Go) when they are on PATH. */
async function addGo(found: Builtins): Promise<void> {
  const { plugins, templates } = found;
  const goCommand = tryResolve("protoc-gen-go");
  const goVersion = goCommand && (await hostVersion(goCommand));
  if (goCommand && goVersion) {
    plugins.push({
      owner: "protocolbuffers",
      name: "go",
      version: goVersion,
      run: { command: [goCommand] },
      runtimeLibraries: { go: [{ module: "google.golang.org/protobuf", version: goVersion }] },
    });
    templates.push({
      owner: builtinTemplateOwner,
      name: "go",
      plugins: [{ owner: "protocolbuffers", name: "go", parameter: "paths=source_relative" }],
    });
    const grpcCommand = tryResolve("protoc-gen-go-grpc");
    const grpcVersion = grpcCommand && (await hostVersion(grpcCommand));
    if (grpcCommand && grpcVersion) {
      plugins.push({
        owner: "grpc",
        name: "go",
        version: grpcVersion,
        run: { command: [grpcCommand] },
        // protoc-gen-go-grpc 1.0 output needs grpc-go ≥ 1.32 (SupportPackageIsVersion7).
        runtimeLibraries: { go: [{ module: "google.golang.org/grpc", version: "v1.33.3" }] },
      });
      templates.push({
        owner: builtinTemplateOwner,
        name: "go-grpc",
        plugins: [
          { owner: "protocolbuffers", name: "go", parameter: "paths=source_relative" },
          { owner: "grpc", name: "go", parameter: "paths=source_relative" },
        ],
      });
    }
  }
}

/** Our prost plugin (protodepot/rust) when plugins/rust-prost/build.sh has built it or it is on PATH. */
async function addRust(found: Builtins): Promise<void> {
  const { plugins, templates } = found;
  const prost = rustProstCommand();
  const prostVersion = prost && (await revisionVersion(prost));
  if (prost && prostVersion) {
    plugins.push({
      owner: builtinTemplateOwner,
      name: "prost",
      version: prostVersion,
      run: { command: [prost] },
      // The plugin's version is the prost-build it is built with; its output needs that minor line of the runtime.
      runtimeLibraries: {
        rust: [
          { crate: "prost", version: `${semver.major(prostVersion)}.${semver.minor(prostVersion)}` },
          { crate: "prost-types", version: `${semver.major(prostVersion)}.${semver.minor(prostVersion)}` },
        ],
      },
    });
    templates.push({
      owner: builtinTemplateOwner,
      name: "rust",
      plugins: [{ owner: builtinTemplateOwner, name: "prost", parameter: "" }],
    });
  }
}

/** protoc's built-in generators and their templates, with Debian's gRPC plugins when installed. */
async function addProtoc(found: Builtins, protoc: Protoc): Promise<void> {
  const { plugins, templates } = found;
  const v = protoc.version;
  for (const p of protocPlugins) {
    plugins.push({
      owner: "protocolbuffers",
      name: p.generator,
      version: `v${v}`,
      run: { protocGenerator: p.generator },
      runtimeLibraries: p.runtimeLibraries(v),
    });
  }
  await addGrpc(found);
  templates.push(
    {
      owner: builtinTemplateOwner,
      name: "python",
      plugins: [
        { owner: "protocolbuffers", name: "python", parameter: "" },
        { owner: "protocolbuffers", name: "pyi", parameter: "" },
      ],
    },
    {
      owner: builtinTemplateOwner,
      name: "java",
      plugins: [{ owner: "protocolbuffers", name: "java", parameter: "" }],
    },
    {
      owner: builtinTemplateOwner,
      name: "ruby",
      plugins: [{ owner: "protocolbuffers", name: "ruby", parameter: "" }],
    },
    // C++ for CMake's FetchContent (/cmake/), linked against the server's protobuf line (docs/cmake.md).
    {
      owner: builtinTemplateOwner,
      name: "cpp",
      plugins: [{ owner: "protocolbuffers", name: "cpp", parameter: "" }],
    },
  );
}

/**
 * Debian's gRPC plugins (protobuf-compiler-grpc): the binary, the runtime its stubs need as of the plugin's release,
 * and the protoc generators its template runs first (`protodepot/{lang}-grpc`).
 */
const grpcPlugins: {
  lang: string;
  binary: string;
  protoc: string[];
  runtimeLibraries: (minor: string) => RuntimeLibraries;
  registryOptions?: Record<string, unknown>;
}[] = [
  {
    lang: "python",
    binary: "grpc_python_plugin",
    protoc: ["python", "pyi"],
    runtimeLibraries: (minor) => ({ python: [{ package: "grpcio", version: `>=${minor}` }] }),
    // Its stubs import protodepot/python's `_pb2` modules: its wheels hold only the stubs and require those
    // (services/pypi-base.ts), so installing both never puts one file in two distributions.
    registryOptions: { python: { base: `${builtinTemplateOwner}/python` } },
  },
  {
    // `*_services_pb.rb` requires grpc (Debian's ruby-grpc is the gem of the same release) and the `_pb.rb` beside
    // it: the gem holds both.
    lang: "ruby",
    binary: "grpc_ruby_plugin",
    protoc: ["ruby"],
    runtimeLibraries: (minor) => ({ ruby: [{ package: "grpc", version: `~> ${minor}` }] }),
  },
  {
    // No runtime library list for C++: the CMake archive links gRPC::grpc++ when the output has `.grpc.pb.cc` files.
    lang: "cpp",
    binary: "grpc_cpp_plugin",
    protoc: ["cpp"],
    runtimeLibraries: () => ({}),
    registryOptions: { ecosystem: "cpp" },
  },
];

/** The gRPC plugins installed. They answer no --version: the package's version counts. Only with protoc. */
async function addGrpc(found: Builtins): Promise<void> {
  const version = await debianVersion("protobuf-compiler-grpc");
  if (!version) return;
  const minor = `${semver.major(version)}.${semver.minor(version)}`;
  for (const g of grpcPlugins) {
    const command = tryResolve(g.binary);
    if (!command) continue;
    found.plugins.push({
      owner: "grpc",
      name: g.lang,
      version,
      run: { command: [command] },
      runtimeLibraries: g.runtimeLibraries(minor),
      ...(g.registryOptions ? { registryOptions: g.registryOptions } : {}),
    });
    found.templates.push({
      owner: builtinTemplateOwner,
      name: `${g.lang}-grpc`,
      plugins: [
        ...g.protoc.map((name) => ({ owner: "protocolbuffers", name, parameter: "" })),
        { owner: "grpc", name: g.lang, parameter: "" },
      ],
    });
  }
}

/** Our own prost plugin (plugins/rust-prost/, built by its build.sh), on PATH or where build.sh leaves it. */
export const rustProstBinary = "protoc-gen-protodepot-prost";

function rustProstCommand(): string | undefined {
  const built = fileURLToPath(
    new URL(`../../plugins/rust-prost/target/release/${rustProstBinary}`, import.meta.url),
  );
  return tryResolve(rustProstBinary) ?? (existsSync(built) ? built : undefined);
}

function tryResolve(command: string): string | undefined {
  try {
    return resolveCommand([command])[0];
  } catch {
    return undefined;
  }
}

const ignoreExisting = async <T>(p: Promise<T>): Promise<T | undefined> => {
  try {
    return await p;
  } catch (err) {
    if (isRegistryError(err, Code.AlreadyExists)) return undefined;
    throw err;
  }
};

/**
 * Registers what detectBuiltins found, idempotently: a plugin version new to the registry (an upgraded
 * protoc-gen-es, say) gets a new template version, so earlier template versions keep serving the old bytes.
 */
export async function registerBuiltins(
  admin: User,
  services: { orgs: OrganizationService; plugins: PluginService; templates: TemplateService },
  opts: { protoc?: Protoc | undefined } = {},
): Promise<string[]> {
  const { orgs, plugins, templates } = services;
  const principal: Principal = { user: admin };
  const found = await detectBuiltins(opts);
  // Built-ins belong to organizations the admin owns, and are public: every user of the server may use them.
  const owners = new Set([...found.plugins.map((p) => p.owner), ...found.templates.map((t) => t.owner)]);
  for (const owner of owners) await orgs.ensure(admin, owner);
  for (const p of found.plugins) {
    await ignoreExisting(plugins.createPlugin(principal, `${p.owner}/${p.name}`, "public"));
    await ignoreExisting(
      plugins.createPluginVersion(principal, {
        plugin: `${p.owner}/${p.name}`,
        version: p.version,
        ...("command" in p.run
          ? { command: p.run.command }
          : { command: [], protocGenerator: p.run.protocGenerator }),
        runtimeLibraries: p.runtimeLibraries,
        registryOptions: p.registryOptions ?? {},
      }),
    );
  }
  const names: string[] = [];
  for (const t of found.templates) {
    const fullName = `${t.owner}/${t.name}`;
    names.push(fullName);
    await ignoreExisting(templates.createTemplate(principal, fullName, t.plugins, "public"));
    const pins = t.plugins.map((tp) => {
      const plugin = found.plugins.find((p) => p.owner === tp.owner && p.name === tp.name);
      return { owner: tp.owner, name: tp.name, version: plugin?.version ?? "" };
    });
    await ensureTemplateVersion(templates, principal, fullName, pins);
  }
  return names;
}

/**
 * A new template version unless the latest pins exactly `pins`. Nodes starting together on one database may both
 * find it missing: the one that loses the race gets AlreadyExists (the same pins, or the same version number)
 * and looks again, finding the winner's version.
 */
async function ensureTemplateVersion(
  templates: TemplateService,
  principal: Principal,
  fullName: string,
  pins: { owner: string; name: string; version: string }[],
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const versions = await templates.listVersions(principal, fullName);
    const latest = versions[versions.length - 1];
    if (latest && latestPins(latest, pins)) return;
    try {
      await templates.createTemplateVersion(principal, fullName, pins);
      return;
    } catch (err) {
      if (!isRegistryError(err, Code.AlreadyExists) || attempt >= 3) throw err;
    }
  }
}

function latestPins(latest: TemplateVersion, pins: readonly { version: string }[]): boolean {
  return (
    latest.plugins.length === pins.length && latest.plugins.every((p, i) => p.version === pins[i]?.version)
  );
}
