// Templates (ordered plugins + parameters) and template versions (v1, v2, … pinning a version of each plugin).
import { Buffer } from "node:buffer";
import { Code, RegistryError } from "../core/errors.js";
import { type FullName, parseFullName } from "../core/names.js";
import type {
  PinnedPlugin,
  PluginVersion,
  Template,
  TemplatePlugin,
  TemplateVersion,
  Visibility,
} from "../core/types.js";
import type { ModuleStore, TemplateStore } from "../storage/meta/metadata-store.js";
import { type AccessPolicy, readable } from "./access.js";
import type { AuditTrail } from "./audit.js";
import type { Principal } from "./auth.js";
import type { PluginService } from "./plugins.js";

export interface TemplateService {
  /** The template if the caller may read it; hidden templates fail exactly as missing ones. */
  getTemplate(principal: Principal, name: FullName): Promise<Template>;
  /** Version `number` of a template the caller may read; NotFound listing the versions otherwise. */
  getVersion(template: Template, number: number): Promise<TemplateVersion>;
  /** NotFound unless the caller may read every plugin the template runs. */
  checkPluginsReadable(principal: Principal, template: Template): Promise<void>;
  createTemplate(
    principal: Principal,
    fullName: string,
    entries: TemplatePlugin[],
    visibility?: Visibility,
  ): Promise<Template>;
  /** Changes visibility; a template may become public only when all its plugins are. */
  updateTemplate(
    principal: Principal,
    fullName: string,
    change: { visibility?: Visibility },
  ): Promise<Template>;
  /** A new version pinning a version of every plugin; one equal to the latest is refused (AlreadyExists). */
  createTemplateVersion(
    principal: Principal,
    fullName: string,
    pins: PinnedPlugin[],
  ): Promise<TemplateVersion>;
  /** The templates the caller may read, of one owner or all. */
  listTemplates(principal: Principal, owner?: string): Promise<Template[]>;
  listVersions(principal: Principal, fullName: string): Promise<TemplateVersion[]>;
  /**
   * The plugin versions and parameters a template version runs, in order, each plugin readable by the caller:
   * generating with a template needs read access to every plugin it runs.
   */
  resolvePlugins(
    principal: Principal,
    template: Template,
    version: TemplateVersion,
  ): Promise<{ version: PluginVersion; parameter: string }[]>;
}

/** The stores the template service uses. */
export type TemplateServiceStore = TemplateStore & Pick<ModuleStore, "setVisibility">;

/** `v3` or `3` → 3. */
export function parseTemplateVersionName(text: string): number {
  const m = /^v?([1-9][0-9]{0,8})$/.exec(text);
  if (!m)
    throw new RegistryError(Code.InvalidArgument, `invalid template version "${text}": expected v1, v2, …`);
  return Number(m[1]);
}

/** Most bytes of one plugin's parameter: options are short (`paths=source_relative,M…` included). */
export const maxParameterBytes = 64 << 10;

/**
 * Refuses at creation what would make every generation fail: no plugin, the same plugin twice (its output
 * would collide with itself), a parameter with a NUL or another control character (protoc cannot pass it).
 */
export function checkTemplatePlugins(entries: readonly TemplatePlugin[]): void {
  if (entries.length === 0)
    throw new RegistryError(Code.InvalidArgument, "a template needs at least one plugin");
  const seen = new Set<string>();
  for (const [i, entry] of entries.entries()) {
    const key = `${entry.owner}/${entry.name}`;
    if (seen.has(key)) {
      throw new RegistryError(
        Code.InvalidArgument,
        `plugin ${key} is listed twice (plugins[${i}]): a plugin runs once per template; put all its options in one parameter`,
      );
    }
    seen.add(key);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused.
    if (/[\u0000-\u001f\u007f]/.test(entry.parameter)) {
      throw new RegistryError(
        Code.InvalidArgument,
        `the parameter of plugin ${key} (plugins[${i}]) contains a control character (NUL, newline, …): separate options with ","`,
      );
    }
    if (Buffer.byteLength(entry.parameter, "utf8") > maxParameterBytes) {
      throw new RegistryError(
        Code.InvalidArgument,
        `the parameter of plugin ${key} (plugins[${i}]) is longer than ${maxParameterBytes} bytes`,
      );
    }
  }
}

function samePins(a: readonly PinnedPlugin[], b: readonly PinnedPlugin[]): boolean {
  return (
    a.length === b.length &&
    a.every((p, i) => p.owner === b[i]?.owner && p.name === b[i]?.name && p.version === b[i]?.version)
  );
}

export interface TemplateServiceOptions {
  access: AccessPolicy;
  /** Visibility of templates created without one (config defaults.visibility). */
  defaultVisibility: Visibility;
  /** Where every change is recorded (docs/audit.md). */
  audit?: Pick<AuditTrail, "record"> | undefined;
}

/** What the service's operations outside its factory use. */
interface TemplateDeps {
  meta: TemplateServiceStore;
  plugins: Pick<PluginService, "getPlugin" | "findVersion" | "getPluginVersion">;
  access: AccessPolicy;
  audit?: Pick<AuditTrail, "record"> | undefined;
}

const missingTemplate = (name: FullName) => () =>
  new RegistryError(Code.NotFound, `template ${name.owner}/${name.name} does not exist`, {
    template: `${name.owner}/${name.name}`,
  });

export function createTemplateService(
  meta: TemplateServiceStore,
  plugins: Pick<PluginService, "getPlugin" | "findVersion" | "getPluginVersion">,
  { access, defaultVisibility, audit }: TemplateServiceOptions,
): TemplateService {
  /** The template if the caller may read it; hidden templates fail exactly as missing ones. */
  async function getTemplate(principal: Principal, name: FullName): Promise<Template> {
    return access.readOwned(principal, await meta.getTemplate(name.owner, name.name), missingTemplate(name));
  }

  async function getVersion(template: Template, number: number): Promise<TemplateVersion> {
    const version = await meta.getTemplateVersion(template.id, number);
    if (!version) {
      const known = (await meta.listTemplateVersions(template.id)).map((v) => `v${v.number}`);
      throw new RegistryError(
        Code.NotFound,
        `template ${template.owner}/${template.name} has no version v${number} (versions: ${known.join(", ") || "none"})`,
        { template: `${template.owner}/${template.name}` },
      );
    }
    return version;
  }

  return {
    getTemplate,
    getVersion,

    async checkPluginsReadable(principal: Principal, template: Template): Promise<void> {
      await Promise.all(
        template.plugins.map((p) =>
          plugins.getPlugin(principal, parseFullName("plugin", `${p.owner}/${p.name}`)),
        ),
      );
    },

    createTemplate: (principal, fullName, entries, visibility) =>
      createTemplate(
        { meta, plugins, access, audit },
        defaultVisibility,
        principal,
        fullName,
        entries,
        visibility,
      ),

    updateTemplate: (principal, fullName, change) =>
      updateTemplate({ meta, plugins, access, audit }, getTemplate, principal, fullName, change),

    createTemplateVersion: (principal, fullName, pins) =>
      createTemplateVersion({ meta, plugins, access, audit }, getTemplate, principal, fullName, pins),

    async listTemplates(principal: Principal, owner?: string): Promise<Template[]> {
      return readable(access, principal, await meta.listTemplates(owner));
    },

    async listVersions(principal: Principal, fullName: string): Promise<TemplateVersion[]> {
      const template = await getTemplate(principal, parseFullName("template", fullName));
      return meta.listTemplateVersions(template.id);
    },

    async resolvePlugins(
      principal: Principal,
      template: Template,
      version: TemplateVersion,
    ): Promise<{ version: PluginVersion; parameter: string }[]> {
      return Promise.all(
        version.plugins.map(async (pin, i) => ({
          version: await plugins.getPluginVersion(
            principal,
            parseFullName("plugin", `${pin.owner}/${pin.name}`),
            pin.version,
          ),
          parameter: template.plugins[i]?.parameter ?? "",
        })),
      );
    },
  };
}

/** Creates a template; every plugin it names must exist and be readable, and public if it is. */
async function createTemplate(
  { meta, plugins, access, audit }: TemplateDeps,
  defaultVisibility: Visibility,
  principal: Principal,
  fullName: string,
  entries: TemplatePlugin[],
  visibility?: Visibility,
): Promise<Template> {
  const name = parseFullName("template", fullName);
  await access.requireWrite(principal, name.owner, "create templates");
  checkTemplatePlugins(entries);
  const wanted = { owner: name.owner, name: name.name, visibility: visibility ?? defaultVisibility };
  await checkPlugins(plugins, principal, wanted, entries);
  const template = await meta.createTemplate({ ...wanted, plugins: entries });
  await audit?.record(principal, {
    action: "template.create",
    target: `${template.owner}/${template.name}`,
    owner: template.owner,
    after: { visibility: template.visibility, plugins: entries },
  });
  return template;
}

/** Changes visibility; a template may become public only when all its plugins are. */
async function updateTemplate(
  { meta, plugins, access, audit }: TemplateDeps,
  getTemplate: TemplateService["getTemplate"],
  principal: Principal,
  fullName: string,
  change: { visibility?: Visibility },
): Promise<Template> {
  const name = parseFullName("template", fullName);
  // Visibility is an owner decision; the check precedes the lookup, so a refusal says nothing of existence.
  if (change.visibility)
    await access.requireManage(principal, name.owner, "change the visibility of templates");
  else await access.requireWrite(principal, name.owner, "change templates");
  const template = await getTemplate(principal, name);
  if (!change.visibility || change.visibility === template.visibility) return template;
  const changed = { ...template, visibility: change.visibility };
  await checkPlugins(plugins, principal, changed, template.plugins);
  await meta.setVisibility("template", template.id, change.visibility);
  await audit?.record(principal, {
    action: "template.visibility",
    target: fullName,
    owner: name.owner,
    before: { visibility: template.visibility },
    after: { visibility: change.visibility },
  });
  return changed;
}

/** A new version pinning a version of every plugin; one equal to the latest is refused (AlreadyExists). */
async function createTemplateVersion(
  { meta, plugins, access, audit }: TemplateDeps,
  getTemplate: TemplateService["getTemplate"],
  principal: Principal,
  fullName: string,
  pins: PinnedPlugin[],
): Promise<TemplateVersion> {
  const name = parseFullName("template", fullName);
  await access.requireWrite(principal, name.owner, "create template versions");
  const template = await getTemplate(principal, name);
  const byName = new Map(pins.map((p) => [`${p.owner}/${p.name}`, p]));
  const wanted = template.plugins.map((p) => `${p.owner}/${p.name}`);
  const extra = [...byName.keys()].filter((k) => !wanted.includes(k));
  if (extra.length) {
    throw new RegistryError(
      Code.InvalidArgument,
      `template ${fullName} has no plugin ${extra.join(", ")} (plugins: ${wanted.join(", ")})`,
    );
  }
  await checkPlugins(plugins, principal, template, template.plugins);
  const ordered: PinnedPlugin[] = [];
  for (const key of wanted) {
    const pin = byName.get(key);
    if (!pin)
      throw new RegistryError(
        Code.InvalidArgument,
        `pin a version of plugin ${key}: every plugin of the template needs one`,
      );
    await plugins.findVersion(pin.owner, pin.name, pin.version);
    ordered.push({ owner: pin.owner, name: pin.name, version: pin.version });
  }
  // A version equal to the latest would bump every consumer's synthetic version for the same output.
  const latest = (await meta.listTemplateVersions(template.id)).reduce<TemplateVersion | undefined>(
    (a, b) => (a && a.number > b.number ? a : b),
    undefined,
  );
  if (latest && samePins(latest.plugins, ordered)) {
    throw new RegistryError(
      Code.AlreadyExists,
      `template ${fullName} v${latest.number} already pins ${ordered.map((p) => `${p.owner}/${p.name}:${p.version}`).join(", ")}: pin a newer plugin version to make a new template version`,
      { template: fullName },
    );
  }
  const created = await meta.createTemplateVersion(template.id, ordered);
  await audit?.record(principal, {
    action: "template.version.create",
    target: `${name.owner}/${name.name}:v${created.number}`,
    owner: name.owner,
    after: { plugins: ordered },
  });
  return created;
}

/** The template's plugins, each readable by the caller; a public template may use public plugins only. */
async function checkPlugins(
  plugins: Pick<PluginService, "getPlugin">,
  principal: Principal,
  template: { owner: string; name: string; visibility: Visibility },
  entries: readonly { owner: string; name: string }[],
): Promise<void> {
  const found = await Promise.all(
    entries.map((e) => plugins.getPlugin(principal, parseFullName("plugin", `${e.owner}/${e.name}`))),
  );
  const hidden = found.filter((p) => p.visibility === "private").map((p) => `${p.owner}/${p.name}`);
  if (template.visibility === "public" && hidden.length > 0) {
    throw new RegistryError(
      Code.FailedPrecondition,
      `public template ${template.owner}/${template.name} cannot use private plugins (${hidden.join(", ")}): make the template private (--visibility private) or the plugins public`,
      { template: `${template.owner}/${template.name}` },
    );
  }
}
