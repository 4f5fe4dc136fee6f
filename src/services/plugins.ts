// Plugins and plugin versions. Host-command versions run executables of this machine, so only admins add them.
import { isAbsolute, join } from "node:path";
import semver from "semver";
import { Code, RegistryError } from "../core/errors.js";
import { type FullName, parseFullName } from "../core/names.js";
import type { Plugin, PluginVersion, RuntimeLibraries, Visibility } from "../core/types.js";
import { resolveCommand as resolveSandboxCommand } from "../plugins/host/command.js";
import type { MetadataStore } from "../storage/meta/metadata-store.js";
import { type Principal, requireAdmin, requireOwner } from "./auth.js";

export interface NewPluginVersion {
  plugin: string;
  version: string;
  command: string[];
  runtimeLibraries: RuntimeLibraries;
  registryOptions: Record<string, unknown>;
}

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

function checkRuntimeLibraries(libs: RuntimeLibraries): RuntimeLibraries {
  for (const go of libs.go ?? []) {
    if (!go.module || !go.version.startsWith("v") || semver.valid(go.version.slice(1)) === null) {
      throw new RegistryError(
        Code.InvalidArgument,
        `invalid Go runtime library "${go.module}@${go.version}": expected MODULE@vX.Y.Z`,
      );
    }
  }
  for (const npm of libs.npm ?? []) {
    if (
      !/^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/.test(npm.package) ||
      semver.validRange(npm.version) === null
    ) {
      throw new RegistryError(
        Code.InvalidArgument,
        `invalid npm runtime library "${npm.package}@${npm.version}": expected PACKAGE@VERSION-OR-RANGE`,
      );
    }
  }
  return libs;
}

export type PluginService = ReturnType<typeof createPluginService>;

export function createPluginService(meta: MetadataStore) {
  async function getPlugin(name: FullName): Promise<Plugin> {
    const plugin = await meta.getPlugin(name.owner, name.name);
    if (!plugin)
      throw new RegistryError(Code.NotFound, `plugin ${name.owner}/${name.name} does not exist`, {
        plugin: `${name.owner}/${name.name}`,
      });
    return plugin;
  }

  return {
    getPlugin,

    async createPlugin(
      principal: Principal,
      fullName: string,
      visibility: Visibility = "public",
    ): Promise<Plugin> {
      const name = parseFullName("plugin", fullName);
      requireOwner(principal, name.owner, "create plugins");
      return meta.createPlugin({ owner: name.owner, name: name.name, visibility });
    },

    async createPluginVersion(principal: Principal, input: NewPluginVersion): Promise<PluginVersion> {
      requireAdmin(principal, "registering host-command plugin versions");
      const name = parseFullName("plugin", input.plugin);
      await getPlugin(name);
      return meta.createPluginVersion({
        owner: name.owner,
        name: name.name,
        version: checkPluginVersion(input.version),
        source: { kind: "host", command: resolveCommand(input.command) },
        runtimeLibraries: checkRuntimeLibraries(input.runtimeLibraries),
        registryOptions: input.registryOptions,
      });
    },

    async getPluginVersion(owner: string, name: string, version: string): Promise<PluginVersion> {
      const found = await meta.getPluginVersion(owner, name, version);
      if (!found) {
        const known = (await meta.listPluginVersions(owner, name)).map((v) => v.version);
        throw new RegistryError(
          Code.NotFound,
          `plugin ${owner}/${name} has no version ${version} (versions: ${known.join(", ") || "none"})`,
          { plugin: `${owner}/${name}` },
        );
      }
      return found;
    },

    async listPlugins(owner?: string): Promise<Plugin[]> {
      return meta.listPlugins(owner);
    },

    async listPluginVersions(fullName: string): Promise<PluginVersion[]> {
      const name = parseFullName("plugin", fullName);
      await getPlugin(name);
      return meta.listPluginVersions(name.owner, name.name);
    },
  };
}
