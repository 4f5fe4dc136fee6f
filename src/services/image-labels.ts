// The runtime libraries a pushed plugin image declares in its labels (BSR's convention, plus the ecosystem).
import { Code, RegistryError } from "../core/errors.js";
import {
  ecosystemLabelKey,
  isPluginEcosystem,
  type PluginEcosystem,
  pluginEcosystems,
} from "../core/plugin-ecosystem.js";
import { checkRuntimeLibraries, runtimeLibraryProblem } from "../core/runtime-libraries.js";
import type { RuntimeLibraries } from "../core/types.js";

/** The ecosystem an image declares, checked; undefined when it declares none (then it is detected). */
export function ecosystemFromLabels(labels: Record<string, string>): PluginEcosystem | undefined {
  const value = labels[ecosystemLabelKey];
  if (value === undefined) return undefined;
  if (!isPluginEcosystem(value)) {
    throw new RegistryError(
      Code.InvalidArgument,
      `image label ${ecosystemLabelKey} is ${JSON.stringify(value)}: use one of ${pluginEcosystems.join(", ")}`,
    );
  }
  return value;
}

/** Image labels of BSR plugin images: `build.buf.plugins.runtime_library_versions.{i}.name|version`. */
const bsrLabel = /^build\.buf\.plugins\.runtime_library_versions\.(\d+)\.(name|version)$/;
/** Our addition, same index: which ecosystem library {i} belongs to (BSR images leave it out). */
const ecosystemLabel = /^dev\.protodepot\.plugins\.runtime_library_versions\.(\d+)\.ecosystem$/;
export const runtimeLibraryEcosystems = ["go", "npm", "python", "maven", "ruby", "rust"] as const;

/**
 * Runtime libraries declared by an image's labels. A library's ecosystem is its `…{i}.ecosystem` label when set
 * (`go`, `npm`, `python`, `ruby`, `maven` with the name `GROUP:ARTIFACT`); otherwise a name whose first path element has a dot (`google.golang.org/protobuf`) is a Go
 * module and anything else an npm package (`@bufbuild/protobuf`), which is what BSR's own images need.
 */
export function runtimeLibrariesFromLabels(labels: Record<string, string>): RuntimeLibraries {
  const byIndex = new Map<number, { name?: string; version?: string; ecosystem?: string }>();
  for (const [key, value] of Object.entries(labels)) {
    const bsr = bsrLabel.exec(key);
    const eco = ecosystemLabel.exec(key);
    const index = Number((bsr ?? eco)?.[1]);
    if (!bsr && !eco) continue;
    const lib = byIndex.get(index) ?? {};
    if (bsr) lib[bsr[2] as "name" | "version"] = value;
    else lib.ecosystem = value;
    byIndex.set(index, lib);
  }
  const go: { module: string; version: string }[] = [];
  const npm: { package: string; version: string }[] = [];
  const python: { package: string; version: string }[] = [];
  const maven: { groupId: string; artifactId: string; version: string }[] = [];
  const ruby: { package: string; version: string }[] = [];
  const rust: { crate: string; version: string }[] = [];
  for (const [index, lib] of [...byIndex].sort((a, b) => a[0] - b[0])) {
    if (!lib.name || !lib.version) {
      throw new RegistryError(
        Code.InvalidArgument,
        `image label build.buf.plugins.runtime_library_versions.${index} needs both .name and .version`,
      );
    }
    const ecosystem = lib.ecosystem ?? (lib.name.split("/")[0]?.includes(".") ? "go" : "npm");
    // Checked one by one, so the refusal names the label to fix.
    const one: RuntimeLibraries =
      ecosystem === "go"
        ? { go: [{ module: lib.name, version: lib.version }] }
        : ecosystem === "npm"
          ? { npm: [{ package: lib.name, version: lib.version }] }
          : ecosystem === "python"
            ? { python: [{ package: lib.name, version: lib.version }] }
            : ecosystem === "ruby"
              ? { ruby: [{ package: lib.name, version: lib.version }] }
              : ecosystem === "rust"
                ? { rust: [{ crate: lib.name, version: lib.version }] }
                : {};
    const problem = runtimeLibraryProblem(one);
    if (problem) {
      throw new RegistryError(
        Code.InvalidArgument,
        `image label build.buf.plugins.runtime_library_versions.${index}.${problem.field} is ` +
          `${JSON.stringify(problem.field === "name" ? lib.name : lib.version)}: a ${ecosystem} runtime library's ` +
          `${problem.field} ${problem.problem}`,
      );
    }
    if (ecosystem === "go") go.push({ module: lib.name, version: lib.version });
    else if (ecosystem === "npm") npm.push({ package: lib.name, version: lib.version });
    else if (ecosystem === "python") python.push({ package: lib.name, version: lib.version });
    else if (ecosystem === "ruby") ruby.push({ package: lib.name, version: lib.version });
    else if (ecosystem === "rust") rust.push({ crate: lib.name, version: lib.version });
    else if (ecosystem === "maven") {
      const [groupId = "", artifactId = "", ...rest] = lib.name.split(":");
      if (rest.length > 0 || !artifactId) {
        throw new RegistryError(
          Code.InvalidArgument,
          `image label build.buf.plugins.runtime_library_versions.${index}.name is "${lib.name}": a Maven library is named GROUP:ARTIFACT`,
        );
      }
      const problem = runtimeLibraryProblem({ maven: [{ groupId, artifactId, version: lib.version }] });
      if (problem) {
        throw new RegistryError(
          Code.InvalidArgument,
          `image label build.buf.plugins.runtime_library_versions.${index}.${problem.field} is ` +
            `${JSON.stringify(problem.field === "name" ? lib.name : lib.version)}: a maven runtime library's ` +
            `${problem.field} ${problem.problem}`,
        );
      }
      maven.push({ groupId, artifactId, version: lib.version });
    } else {
      throw new RegistryError(
        Code.InvalidArgument,
        `image label dev.protodepot.plugins.runtime_library_versions.${index}.ecosystem is "${ecosystem}": ` +
          `use one of ${runtimeLibraryEcosystems.join(", ")}`,
      );
    }
  }
  return checkRuntimeLibraries({
    ...(go.length ? { go } : {}),
    ...(npm.length ? { npm } : {}),
    ...(python.length ? { python } : {}),
    ...(maven.length ? { maven } : {}),
    ...(ruby.length ? { ruby } : {}),
    ...(rust.length ? { rust } : {}),
  });
}
