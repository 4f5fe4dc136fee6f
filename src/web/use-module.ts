// "Use this module": the exact commands that consume one commit through one template, with the synthetic
// version already filled in. Pure: the page computes them from what the services returned.
import { pluginEcosystem } from "../core/plugin-ecosystem.js";
import { goVersion, semverVersion } from "../core/synthetic-version.js";
import type { Commit, PluginVersion, Template } from "../core/types.js";
import { cargoCrateName } from "../ecosystems/cargo/names.js";
import { cmakeAliasTarget, cmakeArchivePath, cmakePackageName } from "../ecosystems/cmake/names.js";
import { goModulePath } from "../ecosystems/go/names.js";
import { mavenArtifactId } from "../ecosystems/maven/names.js";
import { npmPackageName } from "../ecosystems/npm/names.js";
import { pypiProjectName } from "../ecosystems/pypi/names.js";
import { gemName } from "../ecosystems/rubygems/names.js";

export interface UseInput {
  /** Where clients reach this server, without a trailing slash: `http://127.0.0.1:8080`. */
  baseUrl: string;
  goHost: string;
  npmScope: string;
  /** config maven.groupId; without it no Maven lines are shown. */
  mavenGroupId?: string;
  commit: Commit;
  /** The module is private: clients need a token (shown as $PROTODEPOT_TOKEN, never the real one). */
  needsToken: boolean;
}

export interface TemplateUse {
  template: string;
  templateVersion: number;
  /** v1.{t}.{seq} */
  goVersion: string;
  /** 1.{t}.{seq} */
  npmVersion: string;
  commands: {
    ecosystem: "npm" | "go" | "pip" | "maven" | "gem" | "cargo" | "cmake" | "archive";
    label: string;
    text: string;
  }[];
}

const tokenVar = "$PROTODEPOT_TOKEN";

/**
 * Yarn 4 reads no .npmrc: the scope's registry goes in .yarnrc.yml, and since Yarn 4.15 refuses versions younger
 * than a day by default (npmMinimalAgeGate), our scope is exempted: its versions are generated on demand, so a
 * fresh push would stay uninstallable for a day.
 */
function yarnrc(input: UseInput, baseUrl: string): string {
  const http = baseUrl.startsWith("http:");
  return [
    "npmScopes:",
    `  ${input.npmScope}:`,
    `    npmRegistryServer: "${baseUrl}/npm/"`,
    ...(input.needsToken ? [`    npmAuthToken: "\${PROTODEPOT_TOKEN}"`] : []),
    `npmPreapprovedPackages: ["@${input.npmScope}/*"]`,
    ...(http ? [`unsafeHttpWhitelist: ["${new URL(baseUrl).hostname}"]`] : []),
  ].join("\n");
}

/** What every ecosystem's commands are built from. */
interface UseContext {
  input: UseInput;
  template: Template;
  templateVersion: number;
  plugins: readonly PluginVersion[];
  commit: UseInput["commit"];
  baseUrl: string;
  synthetic: { templateVersion: number; commitSeq: number };
  parts: { templateOwner: string; templateName: string; moduleOwner: string; moduleName: string };
}

/** .npmrc, npm install and Yarn 4's .yarnrc.yml, for templates with an npm runtime. */
function npmCommands(u: UseContext): TemplateUse["commands"] {
  const { input, parts, synthetic, baseUrl, plugins } = u;
  if (!plugins.some((p) => (p.runtimeLibraries.npm ?? []).length > 0)) return [];
  const host = new URL(baseUrl).host;
  const commands: TemplateUse["commands"] = [];
  const npmrc = [
    `@${input.npmScope}:registry=${baseUrl}/npm/`,
    ...(input.needsToken ? [`//${host}/npm/:_authToken=\${PROTODEPOT_TOKEN}`] : []),
  ];
  commands.push({ ecosystem: "npm", label: ".npmrc", text: npmrc.join("\n") });
  commands.push({
    ecosystem: "npm",
    label: "npm install",
    text: `npm install ${npmPackageName(input.npmScope, parts)}@${semverVersion(synthetic)}`,
  });
  commands.push({ ecosystem: "npm", label: ".yarnrc.yml (Yarn 4)", text: yarnrc(input, baseUrl) });
  return commands;
}

/** go get through the proxy, for Go templates. */
function goCommands(u: UseContext): TemplateUse["commands"] {
  const { input, synthetic, baseUrl, plugins, parts } = u;
  if (!plugins.some((p) => pluginEcosystem(p) === "go")) return [];
  const commands: TemplateUse["commands"] = [];
  const path = goModulePath({ goHost: input.goHost, ...parts });
  commands.push({
    ecosystem: "go",
    label: "go get",
    text: `${input.needsToken ? `# ~/.netrc: machine ${new URL(baseUrl).hostname} login x password ${tokenVar}\n` : ""}GOPROXY=${baseUrl}/go GONOSUMDB=${input.goHost} go get ${path}@${goVersion(synthetic)}`,
  });
  return commands;
}

/** pip install from the index, for templates with a Python runtime. */
function pipCommands(u: UseContext): TemplateUse["commands"] {
  const { input, template, commit, synthetic, baseUrl, plugins } = u;
  if (!plugins.some((p) => (p.runtimeLibraries.python ?? []).length > 0)) return [];
  const commands: TemplateUse["commands"] = [];
  // pip takes the token as the password of the index URL; the placeholder stays a shell variable.
  const index = input.needsToken ? baseUrl.replace("://", `://__token__:${tokenVar}@`) : baseUrl;
  const project = pypiProjectName({
    template: { owner: template.owner, name: template.name },
    module: { owner: commit.owner, name: commit.module },
  });
  commands.push({
    ecosystem: "pip",
    label: "pip install",
    text: `pip install --index-url ${index}/pypi/simple/ ${project}==${semverVersion(synthetic)}`,
  });
  return commands;
}

/** settings.xml and the pom dependency, for templates with a Maven runtime. */
function mavenCommands(u: UseContext): TemplateUse["commands"] {
  const { input, parts, synthetic, baseUrl, plugins } = u;
  if (!(input.mavenGroupId && plugins.some((p) => (p.runtimeLibraries.maven ?? []).length > 0))) return [];
  const commands: TemplateUse["commands"] = [];
  const server = input.needsToken
    ? `  <servers>\n    <server><id>protodepot</id><username>token</username><password>\${env.PROTODEPOT_TOKEN}</password></server>\n  </servers>\n`
    : "";
  commands.push({
    ecosystem: "maven",
    label: "settings.xml",
    text:
      `<settings>\n${server}  <profiles><profile><id>protodepot</id>\n` +
      `    <repositories><repository><id>protodepot</id><url>${baseUrl}/maven/</url></repository></repositories>\n` +
      "  </profile></profiles>\n  <activeProfiles><activeProfile>protodepot</activeProfile></activeProfiles>\n</settings>",
  });
  commands.push({
    ecosystem: "maven",
    label: "pom.xml",
    text: `<dependency>\n  <groupId>${input.mavenGroupId}</groupId>\n  <artifactId>${mavenArtifactId(parts)}</artifactId>\n  <version>${semverVersion(synthetic)}</version>\n</dependency>`,
  });
  return commands;
}

/** A Gemfile source block and gem install, for templates with a Ruby runtime. */
function gemCommands(u: UseContext): TemplateUse["commands"] {
  const { input, parts, synthetic, baseUrl, plugins } = u;
  if (!plugins.some((p) => (p.runtimeLibraries.ruby ?? []).length > 0)) return [];
  const commands: TemplateUse["commands"] = [];
  // A source block: Bundler takes the gem (and its dependency modules' gems) from this source only, whatever
  // another source calls a gem of the same name. Bundler keys credentials by host without the port.
  const name = gemName(parts);
  const credentials = input.needsToken
    ? `# bundle config set --global ${new URL(baseUrl).hostname} ${tokenVar}\n`
    : "";
  commands.push({
    ecosystem: "gem",
    label: "Gemfile",
    text: `${credentials}source "${baseUrl}/gems/" do\n  gem "${name}", "${semverVersion(synthetic)}"\nend`,
  });
  // gem sends the URL's user name as the token (Basic TOKEN:).
  const source = input.needsToken ? baseUrl.replace("://", `://${tokenVar}@`) : baseUrl;
  commands.push({
    ecosystem: "gem",
    label: "gem install",
    text: `gem install --source ${source}/gems/ ${name} -v ${semverVersion(synthetic)}`,
  });
  return commands;
}

/** curl | tar of the three archive scopes, for every template. */
function archiveCommands(u: UseContext): TemplateUse["commands"] {
  const { input, template, templateVersion, commit, baseUrl } = u;
  const commands: TemplateUse["commands"] = [];
  const archive = `${baseUrl}/v1/${template.owner}/${template.name}/v${templateVersion}/${commit.owner}/${commit.module}/${commit.id}`;
  const auth = input.needsToken ? ` -H "Authorization: Bearer ${tokenVar}"` : "";
  for (const [suffix, label] of [
    ["", "module files"],
    [".include_imports", "with imports"],
    [".include_imports_and_wkt", "with imports and well-known types"],
  ] as const) {
    commands.push({
      ecosystem: "archive",
      label: `curl (${label})`,
      text: `curl -fsS${auth} ${archive}${suffix}.tar.gz | tar xz`,
    });
  }
  return commands;
}

export function templateUse(
  input: UseInput,
  template: Template,
  templateVersion: number,
  plugins: readonly PluginVersion[],
): TemplateUse {
  const { baseUrl, commit } = input;
  const synthetic = { templateVersion, commitSeq: commit.seq };
  const parts = {
    templateOwner: template.owner,
    templateName: template.name,
    moduleOwner: commit.owner,
    moduleName: commit.module,
  };
  const u: UseContext = { input, template, templateVersion, plugins, commit, baseUrl, synthetic, parts };
  const commands: TemplateUse["commands"] = [
    ...npmCommands(u),
    ...goCommands(u),
    ...pipCommands(u),
    ...mavenCommands(u),
    ...gemCommands(u),
    ...cargoAndCmake(input, template, plugins, semverVersion(synthetic)),
    ...archiveCommands(u),
  ];
  return {
    template: `${template.owner}/${template.name}`,
    templateVersion,
    goVersion: goVersion(synthetic),
    npmVersion: semverVersion(synthetic),
    commands,
  };
}

/** The `deps:` entry of a buf.yaml that depends on the module, and the command that pins it in buf.lock. */
export function bufDeps(baseUrl: string, commit: Commit): string {
  return `# buf.yaml\ndeps:\n  - ${new URL(baseUrl).host}/${commit.owner}/${commit.module}\n# then: buf dep update`;
}

/** Cargo lines for templates with a Rust runtime library, CMake lines for those running protoc's cpp generator. */
function cargoAndCmake(
  input: UseInput,
  template: Template,
  plugins: readonly PluginVersion[],
  version: string,
): TemplateUse["commands"] {
  const { baseUrl, commit } = input;
  const parts = {
    template: { owner: template.owner, name: template.name },
    module: { owner: commit.owner, name: commit.module },
  };
  const commands: TemplateUse["commands"] = [];
  const crate = cargoCrateName(parts);
  if (crate && plugins.some((p) => (p.runtimeLibraries.rust ?? []).length > 0)) {
    // Private crates need the token root (cargo sends a token only where config.json asks for one).
    const config = input.needsToken
      ? `[registries.protodepot]\nindex = "sparse+${baseUrl}/cargo/token/index/"\ncredential-provider = "cargo:token"\n` +
        `# export CARGO_REGISTRIES_PROTODEPOT_TOKEN=${tokenVar}`
      : `[registries.protodepot]\nindex = "sparse+${baseUrl}/cargo/index/"`;
    commands.push({ ecosystem: "cargo", label: "~/.cargo/config.toml", text: config });
    commands.push({
      ecosystem: "cargo",
      label: "Cargo.toml",
      text: `[dependencies]\n${crate} = { version = "=${version}", registry = "protodepot" }`,
    });
  }
  if (plugins.some((p) => p.source.kind === "protoc" && p.source.generator === "cpp")) {
    const name = cmakePackageName(parts);
    const path = cmakeArchivePath(parts, version);
    const auth = input.needsToken ? ` -H "Authorization: Bearer ${tokenVar}"` : "";
    commands.push({
      ecosystem: "cmake",
      label: "CMakeLists.txt",
      text:
        `set(PROTODEPOT_URL "${baseUrl}")\ninclude(FetchContent)\n` +
        `# URL_HASH: curl -fsS${auth} ${baseUrl}${path}.sha256\n` +
        `FetchContent_Declare(${name}\n  URL "\${PROTODEPOT_URL}${path}"\n  URL_HASH SHA256=…)\n` +
        `FetchContent_MakeAvailable(${name})\n` +
        `target_link_libraries(app PRIVATE ${cmakeAliasTarget(parts)})` +
        (input.needsToken
          ? "\n# private: cmake -DCMAKE_NETRC=REQUIRED -DCMAKE_NETRC_FILE=… (docs/cmake.md)"
          : ""),
    });
  }
  return commands;
}
