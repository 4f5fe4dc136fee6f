// Which package ecosystem a plugin version's output belongs to: what decides, for instance, whether the server
// passes Go import paths (`M…` options) to it. Kept in the version's registry options (`{"ecosystem":"go"}`).
import { Code, RegistryError } from "./errors.js";
import type { PluginVersion } from "./types.js";

export const pluginEcosystems = ["go", "npm", "python", "maven", "ruby", "cpp"] as const;
export type PluginEcosystem = (typeof pluginEcosystems)[number];

/** The image label that declares a pushed plugin's ecosystem (`protodepot plugin push --ecosystem` sets it). */
export const ecosystemLabelKey = "dev.protodepot.plugins.ecosystem";

export function isPluginEcosystem(value: unknown): value is PluginEcosystem {
  return typeof value === "string" && (pluginEcosystems as readonly string[]).includes(value);
}

/**
 * The ecosystem a version declares (`--ecosystem`, the image label `dev.protodepot.plugins.ecosystem`), else the
 * one its runtime libraries name (a Go runtime library means Go output), else the one of its protoc generator.
 * The older `{"go":{"plugin":true|false}}` option still says yes or no to Go. Undefined: output for no package
 * registry (archives only).
 */
export function pluginEcosystem(
  plugin: Pick<PluginVersion, "registryOptions" | "runtimeLibraries" | "source">,
): PluginEcosystem | undefined {
  const declared = plugin.registryOptions.ecosystem;
  if (isPluginEcosystem(declared)) return declared;
  const go = plugin.registryOptions.go;
  const goFlag =
    typeof go === "object" && go !== null && "plugin" in go ? (go as { plugin: unknown }).plugin : undefined;
  if (goFlag === true) return "go";
  const libs = plugin.runtimeLibraries;
  if (goFlag !== false && (libs.go?.length ?? 0) > 0) return "go";
  if ((libs.npm?.length ?? 0) > 0) return "npm";
  if ((libs.python?.length ?? 0) > 0) return "python";
  if ((libs.maven?.length ?? 0) > 0) return "maven";
  if ((libs.ruby?.length ?? 0) > 0) return "ruby";
  if (plugin.source.kind === "protoc") {
    if (plugin.source.generator === "python" || plugin.source.generator === "pyi") return "python";
    if (plugin.source.generator === "java" || plugin.source.generator === "kotlin") return "maven";
    if (plugin.source.generator === "ruby") return "ruby";
    if (plugin.source.generator === "cpp") return "cpp";
  }
  return undefined;
}

/** Refuses registry options whose `ecosystem` is not one we know, where options are accepted. */
export function checkEcosystemOption(options: Record<string, unknown>): Record<string, unknown> {
  const declared = options.ecosystem;
  if (declared !== undefined && !isPluginEcosystem(declared)) {
    throw new RegistryError(
      Code.InvalidArgument,
      `ecosystem ${JSON.stringify(declared)} is not one of ${pluginEcosystems.join(", ")}`,
    );
  }
  return options;
}
