// "Use this module": which ecosystems a template can make packages for, which templates to offer for the chosen
// ecosystem (and in what order), and the steps that consume one commit through one template there. Pure: the page
// computes them from what the services returned. A private module's steps never hold a token: `protodepot login`
// writes it where each client reads it (docs/cli.md), or a shell variable stands in for it.
import { pluginEcosystem } from "../core/plugin-ecosystem.js";
import type { Commit, PluginVersion, Template } from "../core/types.js";
import { cargoCrateName } from "../ecosystems/cargo/names.js";
import {
  archiveSteps,
  bufSteps,
  cargoSteps,
  cmakeSteps,
  goSteps,
  mavenSteps,
  npmSteps,
  pythonSteps,
  rubySteps,
} from "./use-steps.js";

/** The ecosystems a consumer picks from, in the order the page lists them; `id` is the `use` query parameter. */
export const useEcosystems = [
  { id: "npm", label: "npm / Yarn" },
  { id: "go", label: "Go" },
  { id: "python", label: "Python" },
  { id: "maven", label: "Maven / Gradle" },
  { id: "rubygems", label: "RubyGems / Bundler" },
  { id: "cargo", label: "Cargo" },
  { id: "cmake", label: "CMake" },
  { id: "archive", label: "Archive" },
  { id: "buf", label: "buf" },
] as const;

export type UseEcosystem = (typeof useEcosystems)[number]["id"];

export function isUseEcosystem(value: unknown): value is UseEcosystem {
  return useEcosystems.some((e) => e.id === value);
}

export interface UseInput {
  /** Where clients reach this server, without a trailing slash: `http://127.0.0.1:8080`. */
  baseUrl: string;
  goHost: string;
  npmScope: string;
  /** config maven.groupId; without it no Maven steps are offered. */
  mavenGroupId?: string;
  commit: Commit;
  /** The module is private: clients need credentials (set up by `protodepot login`, never shown). */
  isPrivate: boolean;
}

/** One step: a title, the text of one code block (copied as is), and what to know about it. */
export interface UseStep {
  title: string;
  text: string;
  note?: string;
}

/** A template with its latest version, as the page offers it. */
export interface TemplateChoice {
  template: Template;
  version: number;
  plugins: readonly PluginVersion[];
  /** Registered by the server itself (the `protodepot` owner). */
  builtin: boolean;
  /** The latest generation of this version over the commit failed, and would again. */
  failed: boolean;
  /** What it can make for this module (never `buf`, which needs no template). */
  ecosystems: readonly UseEcosystem[];
}

/** The ecosystems a template's plugins make packages for; every template makes archives. */
export function templateEcosystems(
  input: Pick<UseInput, "mavenGroupId" | "commit">,
  template: Pick<Template, "owner" | "name">,
  plugins: readonly PluginVersion[],
): UseEcosystem[] {
  const libs = (key: "npm" | "python" | "maven" | "ruby" | "rust") =>
    plugins.some((p) => (p.runtimeLibraries[key] ?? []).length > 0);
  const crate = cargoCrateName({
    template: { owner: template.owner, name: template.name },
    module: { owner: input.commit.owner, name: input.commit.module },
  });
  const can: Record<UseEcosystem, boolean> = {
    npm: libs("npm"),
    go: plugins.some((p) => pluginEcosystem(p) === "go"),
    python: libs("python"),
    maven: input.mavenGroupId !== undefined && libs("maven"),
    rubygems: libs("ruby"),
    cargo: crate !== undefined && libs("rust"),
    cmake: plugins.some((p) => p.source.kind === "protoc" && p.source.generator === "cpp"),
    archive: true,
    buf: false,
  };
  return useEcosystems.map((e) => e.id).filter((id) => can[id]);
}

/**
 * The templates offered for one ecosystem: only those that can make it and whose latest generation for this
 * commit did not fail; built-in ones first, then those that make nothing but this ecosystem (besides archives),
 * then by name.
 */
export function offeredTemplates<
  T extends Pick<TemplateChoice, "builtin" | "failed" | "ecosystems"> & {
    template: Pick<Template, "owner" | "name">;
  },
>(choices: readonly T[], ecosystem: UseEcosystem): T[] {
  const name = (c: T) => `${c.template.owner}/${c.template.name}`;
  const breadth = (c: T) => c.ecosystems.filter((e) => e !== "archive").length;
  return choices
    .filter((c) => !c.failed && c.ecosystems.includes(ecosystem))
    .sort(
      (a, b) =>
        Number(b.builtin) - Number(a.builtin) ||
        breadth(a) - breadth(b) ||
        (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0),
    );
}

/** The steps that consume the commit in one ecosystem through one template (none for `buf`). */
export function useSteps(
  input: UseInput,
  ecosystem: UseEcosystem,
  choice: Pick<TemplateChoice, "template" | "version" | "plugins"> | undefined,
): UseStep[] {
  if (ecosystem === "buf") return bufSteps(input);
  if (!choice) return [];
  const { template, version, plugins } = choice;
  const u = {
    input,
    template,
    templateVersion: version,
    plugins,
    synthetic: { templateVersion: version, commitSeq: input.commit.seq },
    parts: {
      templateOwner: template.owner,
      templateName: template.name,
      moduleOwner: input.commit.owner,
      moduleName: input.commit.module,
    },
  };
  switch (ecosystem) {
    case "npm":
      return npmSteps(u);
    case "go":
      return goSteps(u);
    case "python":
      return pythonSteps(u);
    case "maven":
      return mavenSteps(u);
    case "rubygems":
      return rubySteps(u);
    case "cargo":
      return cargoSteps(u);
    case "cmake":
      return cmakeSteps(u);
    case "archive":
      return archiveSteps(u);
  }
}
