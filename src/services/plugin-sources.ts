// What a plugin version runs, checked when it is registered: its version string, a host command (absolute, and
// executable now), or one of protoc's generators.
import { isAbsolute, join } from "node:path";
import semver from "semver";
import { Code, RegistryError } from "../core/errors.js";
import { type PluginSource, protocGenerators } from "../core/types.js";
import { resolveCommand as resolveSandboxCommand } from "../plugins/host/command.js";
import { isProtocGenerator, type Protoc } from "../plugins/protoc/protoc-runtime.js";

/** Plugin versions are semver with a leading v: `v2.2.0`, `v1.28.1-1`. */
export function checkPluginVersion(version: string): string {
  if (!version.startsWith("v") || semver.valid(version.slice(1)) === null) {
    throw new RegistryError(
      Code.InvalidArgument,
      `invalid plugin version "${version}": use semver with a leading v, e.g. v1.28.1-1`,
    );
  }
  return version;
}

/**
 * Checks at registration what the runtime will do at every run (argv[0] absolute or on PATH, executable), and
 * stores the absolute path, so a later change of PATH cannot change what a version runs.
 */
export function resolveCommand(command: readonly string[], path = process.env.PATH ?? ""): string[] {
  const [exe = "", ...args] = command;
  if (!exe)
    throw new RegistryError(
      Code.InvalidArgument,
      "a host plugin needs a command, e.g. --command /usr/bin/protoc-gen-go",
    );
  try {
    // The path as given (e.g. node_modules/.bin/x), not the resolved symlink target: the runtime resolves it.
    const absolute = isAbsolute(exe)
      ? exe
      : exe.includes("/")
        ? join(process.cwd(), exe)
        : resolveSandboxCommand([exe], path).executable;
    resolveSandboxCommand([absolute, ...args], path);
    return [absolute, ...args];
  } catch (err) {
    throw new RegistryError(
      Code.InvalidArgument,
      `plugin command "${exe}" is not an executable file on this server (${err instanceof Error ? err.message : String(err)})`,
    );
  }
}

/** protoc's generators are protoc's own code, sandboxed like any plugin: every writer may register one. */
export function protocSource(protoc: Protoc | undefined, generator: string): PluginSource {
  if (!isProtocGenerator(generator)) {
    throw new RegistryError(
      Code.InvalidArgument,
      `"${generator}" is not one of protoc's built-in generators (${protocGenerators.join(", ")})`,
    );
  }
  if (!protoc) {
    throw new RegistryError(
      Code.FailedPrecondition,
      "this server has no protoc, so protoc generators cannot be registered (apt-get install protobuf-compiler)",
    );
  }
  return { kind: "protoc", generator, version: protoc.version };
}
