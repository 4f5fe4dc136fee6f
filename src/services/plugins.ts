// Plugins and plugin versions. Host-command versions run executables of this machine, so only admins add them.
import { isAbsolute, join } from "node:path";
import semver from "semver";
import { Code, RegistryError } from "../core/errors.js";
import { type FullName, parseFullName } from "../core/names.js";
import { checkEcosystemOption } from "../core/plugin-ecosystem.js";
import { checkRuntimeLibraries } from "../core/runtime-libraries.js";
import {
  type Plugin,
  type PluginSource,
  type PluginVersion,
  protocGenerators,
  type RuntimeLibraries,
  type Visibility,
} from "../core/types.js";
import { resolveCommand as resolveSandboxCommand } from "../plugins/host/command.js";
import { isProtocGenerator, type Protoc } from "../plugins/protoc/protoc-runtime.js";
import type { ModuleStore, PluginStore, TemplateStore } from "../storage/meta/metadata-store.js";
import { type AccessPolicy, readable } from "./access.js";
import type { AuditTrail } from "./audit.js";
import { type Principal, requireAdmin } from "./auth.js";
import { ecosystemFromLabels, runtimeLibrariesFromLabels } from "./image-labels.js";
import { keepNamesForever, type NameQuarantine, refuseDeletedThing } from "./lifecycle/quarantine.js";

export interface NewPluginVersion {
  plugin: string;
  version: string;
  /** argv of a host command (admins only); empty when `protocGenerator` is set. */
  command: string[];
  /** One of protoc's built-in generators (`python`, `java`, …), run by the server's protoc. */
  protocGenerator?: string;
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

export interface NewImageVersion {
  owner: string;
  name: string;
  /** The tag, e.g. v1.2.3. */
  version: string;
  /** Digest of the pushed manifest or index. */
  digest: string;
  /** Labels of the image config (for an index: of its linux/amd64 image). */
  labels: Record<string, string>;
}

export interface PluginService {
  /** The plugin if the caller may read it; hidden plugins fail exactly as missing ones. */
  getPlugin(principal: Principal, name: FullName): Promise<Plugin>;
  /** A version of a plugin already known to be readable (or checked by the caller). */
  findVersion(owner: string, name: string, version: string): Promise<PluginVersion>;
  /** The plugin if it exists and the caller may read it; undefined for hidden and missing ones alike. */
  findReadablePlugin(principal: Principal, owner: string, name: string): Promise<Plugin | undefined>;
  /** Whether the caller may push under `owner`: throws Unauthenticated or PermissionDenied when not. */
  requireImageWrite(principal: Principal, owner: string): Promise<void>;
  /**
   * A pushed tag becomes a plugin version: the plugin is created on first push (defaults.visibility), the tag must be
   * semver, and a version is immutable: the same digest again is accepted, another digest is refused.
   */
  pushImageVersion(
    principal: Principal,
    input: NewImageVersion,
  ): Promise<{ version: PluginVersion; created: boolean }>;
  createPlugin(principal: Principal, fullName: string, visibility?: Visibility): Promise<Plugin>;
  /** Changes visibility; a plugin that public templates use stays public (public never depends on private). */
  updatePlugin(principal: Principal, fullName: string, change: { visibility?: Visibility }): Promise<Plugin>;
  createPluginVersion(principal: Principal, input: NewPluginVersion): Promise<PluginVersion>;
  getPluginVersion(principal: Principal, name: FullName, version: string): Promise<PluginVersion>;
  /** The plugins the caller may read, of one owner or all. */
  listPlugins(principal: Principal, owner?: string): Promise<Plugin[]>;
  listPluginVersions(principal: Principal, fullName: string): Promise<PluginVersion[]>;
}

/** The stores the plugin service uses: plugins, and templates to keep "public never uses private". */
export type PluginServiceStore = PluginStore &
  Pick<TemplateStore, "listTemplates"> &
  Pick<ModuleStore, "setVisibility">;

export interface PluginServiceOptions {
  access: AccessPolicy;
  /** The server's protoc, whose built-in generators plugin versions may name; undefined when it is missing. */
  protoc?: Protoc | undefined;
  /** Visibility of plugins created without one (config defaults.visibility). */
  defaultVisibility: Visibility;
  /** Where every change is recorded (docs/audit.md). */
  audit?: Pick<AuditTrail, "record"> | undefined;
  /** Whether a deleted plugin's name may be created again (default: never). */
  quarantine?: NameQuarantine | undefined;
}

const missingPlugin = (name: FullName) => () =>
  new RegistryError(Code.NotFound, `plugin ${name.owner}/${name.name} does not exist`, {
    plugin: `${name.owner}/${name.name}`,
  });

/** What the plugin service's steps share. */
interface PluginContext {
  meta: PluginServiceStore;
  access: AccessPolicy;
  defaultVisibility: Visibility;
  audit?: Pick<AuditTrail, "record"> | undefined;
  quarantine: NameQuarantine;
}

export function createPluginService(
  meta: PluginServiceStore,
  { access, defaultVisibility, protoc, audit, quarantine }: PluginServiceOptions,
): PluginService {
  const c: PluginContext = {
    meta,
    access,
    defaultVisibility,
    audit,
    quarantine: quarantine ?? keepNamesForever,
  };

  /** The plugin if the caller may read it; hidden plugins fail exactly as missing ones. */
  async function getPlugin(principal: Principal, name: FullName): Promise<Plugin> {
    const found = await meta.getPlugin(name.owner, name.name);
    return refuseDeletedThing("plugin", await access.readOwned(principal, found, missingPlugin(name)));
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

  /** The plugin if it exists and the caller may read it; undefined for hidden and missing ones alike. */
  async function findReadablePlugin(principal: Principal, owner: string, name: string) {
    const plugin = await meta.getPlugin(owner, name);
    return plugin && (await access.canRead(principal, plugin)) ? plugin : undefined;
  }

  return {
    getPlugin,
    findVersion,
    findReadablePlugin,

    async requireImageWrite(principal: Principal, owner: string): Promise<void> {
      await access.requireWrite(principal, owner, "push plugin images");
    },

    pushImageVersion: (principal, input) => pushImageVersion(c, principal, input),

    async createPlugin(principal: Principal, fullName: string, visibility?: Visibility): Promise<Plugin> {
      const name = parseFullName("plugin", fullName);
      await access.requireWrite(principal, name.owner, "create plugins");
      await (quarantine ?? keepNamesForever).reclaim("plugin", await meta.getPlugin(name.owner, name.name));
      const plugin = await meta.createPlugin({
        owner: name.owner,
        name: name.name,
        visibility: visibility ?? defaultVisibility,
      });
      await audit?.record(principal, {
        action: "plugin.create",
        target: `${plugin.owner}/${plugin.name}`,
        owner: plugin.owner,
        after: { visibility: plugin.visibility },
      });
      return plugin;
    },

    updatePlugin: (principal, fullName, change) => updatePlugin(c, getPlugin, principal, fullName, change),

    createPluginVersion: (principal, input) => createPluginVersion(c, protoc, getPlugin, principal, input),

    async getPluginVersion(principal: Principal, name: FullName, version: string): Promise<PluginVersion> {
      await getPlugin(principal, name);
      return findVersion(name.owner, name.name, version);
    },

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

/**
 * A pushed tag becomes a plugin version: the plugin is created on first push (defaults.visibility), the tag must be
 * semver, and a version is immutable: the same digest again is accepted, another digest is refused.
 */
async function pushImageVersion(
  { meta, access, defaultVisibility, audit, quarantine }: PluginContext,
  principal: Principal,
  input: NewImageVersion,
): Promise<{ version: PluginVersion; created: boolean }> {
  await access.requireWrite(principal, input.owner, "push plugin images");
  const full = `${input.owner}/${input.name}`;
  const name = parseFullName("plugin", full);
  const version = input.version;
  if (!version.startsWith("v") || semver.valid(version.slice(1)) === null) {
    throw new RegistryError(
      Code.InvalidArgument,
      `tag "${version}" of ${full} is not a plugin version: tags are semver with a leading v, e.g. v1.28.1`,
      { plugin: full },
    );
  }
  const runtimeLibraries = runtimeLibrariesFromLabels(input.labels);
  const ecosystem = ecosystemFromLabels(input.labels);
  const before = await meta.getPlugin(name.owner, name.name);
  // A push to a deleted plugin creates it anew once its name's quarantine is over (refused with Gone before).
  await quarantine.reclaim("plugin", before);
  if (!before || before.deletedAt !== undefined) {
    try {
      await meta.createPlugin({ owner: name.owner, name: name.name, visibility: defaultVisibility });
    } catch (err) {
      // Two first pushes at once: the other one created it.
      if (!(await meta.getPlugin(name.owner, name.name))) throw err;
    }
  }
  const existing = await meta.getPluginVersion(name.owner, name.name, version);
  if (existing) {
    if (existing.source.kind === "oci" && existing.source.digest === input.digest) {
      return { version: existing, created: false };
    }
    const was = existing.source.kind === "oci" ? existing.source.digest : `a ${existing.source.kind} plugin`;
    throw new RegistryError(
      Code.AlreadyExists,
      `plugin version ${full}:${version} already exists (${was}) and versions are immutable: push a new version`,
      { plugin: full },
    );
  }
  const created = await meta.createPluginVersion({
    owner: name.owner,
    name: name.name,
    version,
    source: { kind: "oci", digest: input.digest },
    runtimeLibraries,
    registryOptions: ecosystem ? { ecosystem } : {},
  });
  await audit?.record(principal, {
    action: "plugin.image.push",
    target: `${full}:${version}`,
    owner: name.owner,
    after: { digest: input.digest },
  });
  return { version: created, created: true };
}

/** Changes visibility; a plugin that public templates use stays public (public never depends on private). */
async function updatePlugin(
  { meta, access, audit }: PluginContext,
  getPlugin: PluginService["getPlugin"],
  principal: Principal,
  fullName: string,
  change: { visibility?: Visibility },
): Promise<Plugin> {
  const name = parseFullName("plugin", fullName);
  // Visibility is an owner decision; the check precedes the lookup, so a refusal says nothing of existence.
  if (change.visibility)
    await access.requireManage(principal, name.owner, "change the visibility of plugins");
  else await access.requireWrite(principal, name.owner, "change plugins");
  const plugin = await getPlugin(principal, name);
  if (!change.visibility || change.visibility === plugin.visibility) return plugin;
  if (change.visibility === "private") {
    const users = (await meta.listTemplates())
      .filter(
        (t) =>
          t.visibility === "public" && t.plugins.some((p) => p.owner === name.owner && p.name === name.name),
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
  await audit?.record(principal, {
    action: "plugin.visibility",
    target: fullName,
    owner: name.owner,
    before: { visibility: plugin.visibility },
    after: { visibility: change.visibility },
  });
  return { ...plugin, visibility: change.visibility };
}

async function createPluginVersion(
  { meta, access, audit }: PluginContext,
  protoc: Protoc | undefined,
  getPlugin: PluginService["getPlugin"],
  principal: Principal,
  input: NewPluginVersion,
): Promise<PluginVersion> {
  const name = parseFullName("plugin", input.plugin);
  // Writers create versions; the check precedes the lookup, so a refusal says nothing of existence.
  await access.requireWrite(principal, name.owner, "create plugin versions");
  await getPlugin(principal, name);
  let source: PluginSource;
  if (input.protocGenerator) {
    if (input.command.length > 0) {
      throw new RegistryError(
        Code.InvalidArgument,
        "a plugin version runs either a host command or a protoc generator, not both",
      );
    }
    source = protocSource(protoc, input.protocGenerator);
  } else {
    requireAdmin(principal, "registering host-command plugin versions");
    source = { kind: "host", command: resolveCommand(input.command) };
  }
  const created = await meta.createPluginVersion({
    owner: name.owner,
    name: name.name,
    version: checkPluginVersion(input.version),
    source,
    runtimeLibraries: checkRuntimeLibraries(input.runtimeLibraries),
    registryOptions: checkEcosystemOption(input.registryOptions),
  });
  await audit?.record(principal, {
    action: "plugin.version.create",
    target: `${name.owner}/${name.name}:${created.version}`,
    owner: name.owner,
    after: { source: created.source.kind },
  });
  return created;
}

/** protoc's generators are protoc's own code, sandboxed like any plugin: every writer may register one. */
function protocSource(protoc: Protoc | undefined, generator: string): PluginSource {
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
