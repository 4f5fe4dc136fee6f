// Plugins and plugin versions. Host-command versions run executables of this machine, so only admins add them.
import semver from "semver";
import { Code, RegistryError } from "../core/errors.js";
import { type FullName, parseFullName } from "../core/names.js";
import { checkEcosystemOption } from "../core/plugin-ecosystem.js";
import { checkRuntimeLibraries } from "../core/runtime-libraries.js";
import type { Plugin, PluginSource, PluginVersion, RuntimeLibraries, Visibility } from "../core/types.js";
import type { Protoc } from "../plugins/protoc/protoc-runtime.js";
import type { ModuleStore, PluginStore, TemplateStore } from "../storage/meta/metadata-store.js";
import { type AccessPolicy, readable } from "./access.js";
import type { AuditTrail } from "./audit.js";
import { type Principal, requireAdmin } from "./auth.js";
import { applyDeprecation, checkDeprecation } from "./deprecation.js";
import { ecosystemFromLabels, runtimeLibrariesFromLabels } from "./image-labels.js";
import { keepNamesForever, type NameQuarantine, refuseDeletedThing } from "./lifecycle/quarantine.js";
import { checkPluginVersion, protocSource, resolveCommand } from "./plugin-sources.js";

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
  /**
   * Changes visibility (a plugin that public templates use stays public: public never depends on private) and
   * deprecation (a message, possibly empty, deprecates; null undeprecates); both are owner decisions.
   */
  updatePlugin(principal: Principal, fullName: string, change: PluginChange): Promise<Plugin>;
  createPluginVersion(principal: Principal, input: NewPluginVersion): Promise<PluginVersion>;
  getPluginVersion(principal: Principal, name: FullName, version: string): Promise<PluginVersion>;
  /** The plugins the caller may read, of one owner or all. */
  listPlugins(principal: Principal, owner?: string): Promise<Plugin[]>;
  listPluginVersions(principal: Principal, fullName: string): Promise<PluginVersion[]>;
}

export interface PluginChange {
  visibility?: Visibility;
  deprecation?: string | null;
}

/** The stores the plugin service uses: plugins, and templates to keep "public never uses private". */
export type PluginServiceStore = PluginStore &
  Pick<TemplateStore, "listTemplates"> &
  Pick<ModuleStore, "setVisibility" | "setDeprecation">;

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

    createPlugin: (principal, fullName, visibility) => createPlugin(c, principal, fullName, visibility),

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

/** Creates a plugin (writers); a deleted one's name only once its quarantine ended. */
async function createPlugin(
  c: PluginContext,
  ...[principal, fullName, visibility]: Parameters<PluginService["createPlugin"]>
): ReturnType<PluginService["createPlugin"]> {
  const { meta, access, defaultVisibility, audit, quarantine } = c;
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

/** Changes visibility and deprecation, each an owner decision; the plugin as it reads afterwards. */
async function updatePlugin(
  c: PluginContext,
  getPlugin: PluginService["getPlugin"],
  principal: Principal,
  fullName: string,
  change: PluginChange,
): Promise<Plugin> {
  const name = parseFullName("plugin", fullName);
  // Owner decisions; the check precedes the lookup, so a refusal says nothing of existence.
  if (change.visibility || change.deprecation !== undefined)
    await c.access.requireManage(principal, name.owner, pluginChangeOp(change));
  else await c.access.requireWrite(principal, name.owner, "change plugins");
  checkDeprecation(change.deprecation);
  let plugin = await getPlugin(principal, name);
  if (change.visibility && change.visibility !== plugin.visibility)
    plugin = await changeVisibility(c, principal, plugin, change.visibility);
  if (change.deprecation !== undefined)
    plugin = await applyDeprecation(c, principal, "plugin", plugin, change.deprecation);
  return plugin;
}

const pluginChangeOp = (change: PluginChange) =>
  change.visibility
    ? "change the visibility of plugins"
    : change.deprecation === null
      ? "undeprecate plugins"
      : "deprecate plugins";

/** A plugin that public templates use stays public (public never depends on private). */
async function changeVisibility(
  { meta, audit }: PluginContext,
  principal: Principal,
  plugin: Plugin,
  visibility: Visibility,
): Promise<Plugin> {
  const fullName = `${plugin.owner}/${plugin.name}`;
  if (visibility === "private") {
    const users = (await meta.listTemplates())
      .filter(
        (t) =>
          t.visibility === "public" &&
          t.plugins.some((p) => p.owner === plugin.owner && p.name === plugin.name),
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
  await meta.setVisibility("plugin", plugin.id, visibility);
  await audit?.record(principal, {
    action: "plugin.visibility",
    target: fullName,
    owner: plugin.owner,
    before: { visibility: plugin.visibility },
    after: { visibility },
  });
  return { ...plugin, visibility };
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
