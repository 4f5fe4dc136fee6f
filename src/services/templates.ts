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
import type { MetadataStore } from "../storage/meta/metadata-store.js";
import { type Principal, requireOwner } from "./auth.js";
import type { PluginService } from "./plugins.js";

export type TemplateService = ReturnType<typeof createTemplateService>;

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

export function createTemplateService(meta: MetadataStore, plugins: PluginService) {
  async function getTemplate(name: FullName): Promise<Template> {
    const template = await meta.getTemplate(name.owner, name.name);
    if (!template) {
      throw new RegistryError(Code.NotFound, `template ${name.owner}/${name.name} does not exist`, {
        template: `${name.owner}/${name.name}`,
      });
    }
    return template;
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

    async createTemplate(
      principal: Principal,
      fullName: string,
      entries: TemplatePlugin[],
      visibility: Visibility = "public",
    ): Promise<Template> {
      const name = parseFullName("template", fullName);
      requireOwner(principal, name.owner, "create templates");
      checkTemplatePlugins(entries);
      for (const entry of entries)
        await plugins.getPlugin(parseFullName("plugin", `${entry.owner}/${entry.name}`));
      return meta.createTemplate({ owner: name.owner, name: name.name, visibility, plugins: entries });
    },

    async createTemplateVersion(
      principal: Principal,
      fullName: string,
      pins: PinnedPlugin[],
    ): Promise<TemplateVersion> {
      const name = parseFullName("template", fullName);
      requireOwner(principal, name.owner, "create template versions");
      const template = await getTemplate(name);
      const byName = new Map(pins.map((p) => [`${p.owner}/${p.name}`, p]));
      const wanted = template.plugins.map((p) => `${p.owner}/${p.name}`);
      const extra = [...byName.keys()].filter((k) => !wanted.includes(k));
      if (extra.length) {
        throw new RegistryError(
          Code.InvalidArgument,
          `template ${fullName} has no plugin ${extra.join(", ")} (plugins: ${wanted.join(", ")})`,
        );
      }
      const ordered: PinnedPlugin[] = [];
      for (const key of wanted) {
        const pin = byName.get(key);
        if (!pin)
          throw new RegistryError(
            Code.InvalidArgument,
            `pin a version of plugin ${key}: every plugin of the template needs one`,
          );
        await plugins.getPluginVersion(pin.owner, pin.name, pin.version);
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
      return meta.createTemplateVersion(template.id, ordered);
    },

    async listTemplates(owner?: string): Promise<Template[]> {
      return meta.listTemplates(owner);
    },

    async listVersions(fullName: string): Promise<TemplateVersion[]> {
      const template = await getTemplate(parseFullName("template", fullName));
      return meta.listTemplateVersions(template.id);
    },

    /** The plugin versions and parameters a template version runs, in order. */
    async resolvePlugins(
      template: Template,
      version: TemplateVersion,
    ): Promise<{ version: PluginVersion; parameter: string }[]> {
      return Promise.all(
        version.plugins.map(async (pin, i) => ({
          version: await plugins.getPluginVersion(pin.owner, pin.name, pin.version),
          parameter: template.plugins[i]?.parameter ?? "",
        })),
      );
    },
  };
}
