// Plugins and plugin versions. Host-command versions run executables of this machine, so only admins add them.
import { isAbsolute, join } from "node:path";
import semver from "semver";
import { Code, RegistryError } from "../core/errors.js";
import { type FullName, parseFullName } from "../core/names.js";
import type { Plugin, PluginVersion, RuntimeLibraries, Visibility } from "../core/types.js";
import { resolveCommand as resolveSandboxCommand } from "../plugins/host/sandbox.js";
import type { MetadataStore } from "../storage/meta/metadata-store.js";
import { type AccessPolicy, readable } from "./access.js";
import { type Principal, requireAdmin, requireUser } from "./auth.js";

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

export interface PluginServiceOptions {
  access: AccessPolicy;
  /** Visibility of plugins created without one (config defaults.visibility). */
  defaultVisibility: Visibility;
}

const missingPlugin = (name: FullName) => () =>
  new RegistryError(Code.NotFound, `plugin ${name.owner}/${name.name} does not exist`, {
    plugin: `${name.owner}/${name.name}`,
  });

export function createPluginService(
  meta: MetadataStore,
  { access, defaultVisibility }: PluginServiceOptions,
) {
  /** The plugin if the caller may read it; hidden plugins fail exactly as missing ones. */
  async function getPlugin(principal: Principal, name: FullName): Promise<Plugin> {
    const plugin = await meta.getPlugin(name.owner, name.name);
    if (!plugin) {
      access.checkCanList(principal);
      throw missingPlugin(name)();
    }
    await access.checkRead(principal, plugin, missingPlugin(name));
    return plugin;
  }

  /** A version of a plugin already known to be readable (or checked by the caller). */
  async function findVersion(owner: string, name: string, version: string): Promise<PluginVersion> {
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
  }

  return {
    getPlugin,
    findVersion,

    async createPlugin(principal: Principal, fullName: string, visibility?: Visibility): Promise<Plugin> {
      const name = parseFullName("plugin", fullName);
      await access.requireWrite(principal, name.owner, "create plugins");
      return meta.createPlugin({
        owner: name.owner,
        name: name.name,
        visibility: visibility ?? defaultVisibility,
      });
    },

    /** Changes visibility; a plugin that public templates use stays public (public never depends on private). */
    async updatePlugin(
      principal: Principal,
      fullName: string,
      change: { visibility?: Visibility },
    ): Promise<Plugin> {
      requireUser(principal, "change plugins");
      const name = parseFullName("plugin", fullName);
      const plugin = await getPlugin(principal, name);
      await access.requireWrite(principal, name.owner, "change plugins");
      if (!change.visibility || change.visibility === plugin.visibility) return plugin;
      if (change.visibility === "private") {
        const users = (await meta.listTemplates())
          .filter(
            (t) =>
              t.visibility === "public" &&
              t.plugins.some((p) => p.owner === name.owner && p.name === name.name),
          )
          .map((t) => `${t.owner}/${t.name}`);
        if (users.length > 0) {
          throw new RegistryError(
            Code.FailedPrecondition,
            `plugin ${fullName} cannot become private: public templates use it (${users.join(", ")}); make them private first`,
            { plugin: fullName },
          );
        }
      }
      await meta.setVisibility("plugin", plugin.id, change.visibility);
      return { ...plugin, visibility: change.visibility };
    },

    async createPluginVersion(principal: Principal, input: NewPluginVersion): Promise<PluginVersion> {
      requireUser(principal, "registering plugin versions");
      const name = parseFullName("plugin", input.plugin);
      await getPlugin(principal, name);
      requireAdmin(principal, "registering host-command plugin versions");
      return meta.createPluginVersion({
        owner: name.owner,
        name: name.name,
        version: checkPluginVersion(input.version),
        source: { kind: "host", command: resolveCommand(input.command) },
        runtimeLibraries: checkRuntimeLibraries(input.runtimeLibraries),
        registryOptions: input.registryOptions,
      });
    },

    async getPluginVersion(principal: Principal, name: FullName, version: string): Promise<PluginVersion> {
      await getPlugin(principal, name);
      return findVersion(name.owner, name.name, version);
    },

    /** The plugins the caller may read, of one owner or all. */
    async listPlugins(principal: Principal, owner?: string): Promise<Plugin[]> {
      return readable(access, principal, await meta.listPlugins(owner));
    },

    async listPluginVersions(principal: Principal, fullName: string): Promise<PluginVersion[]> {
      const name = parseFullName("plugin", fullName);
      await getPlugin(principal, name);
      return meta.listPluginVersions(name.owner, name.name);
    },
  };
}
