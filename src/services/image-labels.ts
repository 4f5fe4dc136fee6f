// The runtime libraries a pushed plugin image declares in its labels (BSR's convention, plus the ecosystem).
import { Code, RegistryError } from "../core/errors.js";
import {
  ecosystemLabelKey,
  isPluginEcosystem,
  type PluginEcosystem,
  pluginEcosystems,
} from "../core/plugin-ecosystem.js";
import { checkRuntimeLibraries, runtimeLibraryProblem } from "../core/runtime-libraries.js";
import type {
  GoRuntimeLibrary,
  MavenRuntimeLibrary,
  NpmRuntimeLibrary,
  PythonRuntimeLibrary,
  RubyRuntimeLibrary,
  RuntimeLibraries,
  RustRuntimeLibrary,
} from "../core/types.js";

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
  const go: GoRuntimeLibrary[] = [];
  const npm: NpmRuntimeLibrary[] = [];
  const python: PythonRuntimeLibrary[] = [];
  const maven: MavenRuntimeLibrary[] = [];
  const ruby: RubyRuntimeLibrary[] = [];
  const rust: RustRuntimeLibrary[] = [];
  for (const [index, lib] of labelledLibraries(labels)) {
    const one = libraryOf(index, lib);
    go.push(...(one.go ?? []));
    npm.push(...(one.npm ?? []));
    python.push(...(one.python ?? []));
    maven.push(...(one.maven ?? []));
    ruby.push(...(one.ruby ?? []));
    rust.push(...(one.rust ?? []));
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

interface LabelledLibrary {
  name?: string;
  version?: string;
  ecosystem?: string;
}

/** The libraries the labels declare, by index, in index order. */
function labelledLibraries(labels: Record<string, string>): [number, LabelledLibrary][] {
  const byIndex = new Map<number, LabelledLibrary>();
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
  return [...byIndex].sort((a, b) => a[0] - b[0]);
}

/** One label's library, checked on its own so that a refusal names the label to fix. */
function libraryOf(index: number, lib: LabelledLibrary): RuntimeLibraries {
  const { name, version } = lib;
  if (!name || !version) {
    throw new RegistryError(
      Code.InvalidArgument,
      `image label build.buf.plugins.runtime_library_versions.${index} needs both .name and .version`,
    );
  }
  const ecosystem = lib.ecosystem ?? (name.split("/")[0]?.includes(".") ? "go" : "npm");
  const one = oneLibrary(index, ecosystem, name, version);
  const problem = runtimeLibraryProblem(one);
  if (problem) {
    throw new RegistryError(
      Code.InvalidArgument,
      `image label build.buf.plugins.runtime_library_versions.${index}.${problem.field} is ` +
        `${JSON.stringify(problem.field === "name" ? name : version)}: a ${ecosystem} runtime library's ` +
        `${problem.field} ${problem.problem}`,
    );
  }
  return one;
}

function oneLibrary(index: number, ecosystem: string, name: string, version: string): RuntimeLibraries {
  switch (ecosystem) {
    case "go":
      return { go: [{ module: name, version }] };
    case "npm":
      return { npm: [{ package: name, version }] };
    case "python":
      return { python: [{ package: name, version }] };
    case "ruby":
      return { ruby: [{ package: name, version }] };
    case "rust":
      return { rust: [{ crate: name, version }] };
    case "maven": {
      const [groupId = "", artifactId = "", ...rest] = name.split(":");
      if (rest.length > 0 || !artifactId) {
        throw new RegistryError(
          Code.InvalidArgument,
          `image label build.buf.plugins.runtime_library_versions.${index}.name is "${name}": a Maven library is named GROUP:ARTIFACT`,
        );
      }
      return { maven: [{ groupId, artifactId, version }] };
    }
    default:
      throw new RegistryError(
        Code.InvalidArgument,
        `image label dev.protodepot.plugins.runtime_library_versions.${index}.ecosystem is "${ecosystem}": ` +
          `use one of ${runtimeLibraryEcosystems.join(", ")}`,
      );
  }
}
