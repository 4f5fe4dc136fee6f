// The steps of "Use this module" per ecosystem, with the synthetic version already filled in. A private module's
// client setup is `protodepot login URL --token-stdin --FLAG` (it prompts for the token and writes it, mode 0600,
// where the client reads it), or, for clients login does not configure, a shell variable read without echo.
import { goVersion, semverVersion } from "../core/synthetic-version.js";
import type { PluginVersion, Template } from "../core/types.js";
import { cargoCrateName } from "../ecosystems/cargo/names.js";
import { cmakeAliasTarget, cmakeArchivePath, cmakePackageName } from "../ecosystems/cmake/names.js";
import { goModulePath } from "../ecosystems/go/names.js";
import { mavenArtifactId } from "../ecosystems/maven/names.js";
import { npmPackageName } from "../ecosystems/npm/names.js";
import { pypiProjectName } from "../ecosystems/pypi/names.js";
import { gemName } from "../ecosystems/rubygems/names.js";
import type { UseInput, UseStep } from "./use-module.js";

/** What every ecosystem's steps are built from. */
export interface StepContext {
  input: UseInput;
  template: Pick<Template, "owner" | "name">;
  templateVersion: number;
  plugins: readonly PluginVersion[];
  synthetic: { templateVersion: number; commitSeq: number };
  parts: { templateOwner: string; templateName: string; moduleOwner: string; moduleName: string };
}

const loginNote = "Prompts for a token and writes it (mode 0600) where the client reads it; run it once.";
const login = (baseUrl: string, flag: string): UseStep => ({
  title: "Sign in once",
  text: `protodepot login ${baseUrl} --token-stdin --${flag}`,
  note: loginNote,
});
/** For clients `protodepot login` does not configure (gem, Bundler, cargo): the token in a shell variable, typed without echo. */
const readToken: UseStep = {
  title: "Read your token into a shell variable (no echo)",
  text: "read -rsp 'token: ' PROTODEPOT_TOKEN",
};
const isHttp = (baseUrl: string) => baseUrl.startsWith("http:");

export function npmSteps(u: StepContext): UseStep[] {
  const { input, parts, synthetic } = u;
  const { baseUrl, npmScope } = input;
  const pkg = `${npmPackageName(npmScope, parts)}@${semverVersion(synthetic)}`;
  const gate = `Yarn 4.15 and later refuse versions younger than a day; npmPreapprovedPackages exempts @${npmScope}, whose versions are made on demand.`;
  const yarnrc = [
    "npmScopes:",
    `  ${npmScope}:`,
    `    npmRegistryServer: "${baseUrl}/npm/"`,
    `npmPreapprovedPackages: ["@${npmScope}/*"]`,
    ...(isHttp(baseUrl) ? [`unsafeHttpWhitelist: ["${new URL(baseUrl).hostname}"]`] : []),
  ].join("\n");
  return [
    input.isPrivate
      ? {
          ...login(baseUrl, "npmrc"),
          note: `${loginNote} ~/.npmrc gets @${npmScope}'s registry and your token.`,
        }
      : { title: ".npmrc", text: `@${npmScope}:registry=${baseUrl}/npm/` },
    { title: "npm install", text: `npm install ${pkg}` },
    input.isPrivate
      ? {
          title: "Yarn 4: sign in once",
          text: `protodepot login ${baseUrl} --token-stdin --yarnrc`,
          note: `Writes @${npmScope}'s registry and your token to ~/.yarnrc.yml. ${gate}`,
        }
      : { title: "Yarn 4: .yarnrc.yml", text: yarnrc, note: gate },
    { title: "yarn add", text: `yarn add ${pkg}` },
  ];
}

export function goSteps(u: StepContext): UseStep[] {
  const { input, synthetic, parts } = u;
  const { baseUrl, goHost } = input;
  const path = goModulePath({ goHost, ...parts });
  const version = goVersion(synthetic);
  const get = (proxy: string) => `GOPROXY=${proxy} GONOSUMDB=${goHost} go get ${path}@${version}`;
  if (!input.isPrivate) return [{ title: "go get", text: get(`${baseUrl}/go`) }];
  if (!isHttp(baseUrl)) {
    return [
      { ...login(baseUrl, "netrc"), note: `${loginNote} go reads ~/.netrc for the proxy's host.` },
      { title: "go get", text: get(`${baseUrl}/go`) },
    ];
  }
  // go sends credentials to a proxy over https only: ~/.netrc is skipped and user:password in GOPROXY refused over
  // http, whatever GOINSECURE says (it covers direct fetches, not proxies). curl sends ~/.netrc over http, and go
  // reads a file:// proxy.
  const local = "$HOME/.cache/protodepot/goproxy";
  return [
    { ...login(baseUrl, "netrc"), note: `${loginNote} curl --netrc reads ~/.netrc.` },
    {
      title: "Download the module with curl",
      text:
        `d="${local}/${path}/@v" && mkdir -p "$d"
` +
        `for f in ${version}.info ${version}.mod ${version}.zip; do curl -fsS --netrc -o "$d/$f" ${baseUrl}/go/${path}/@v/$f; done`,
      note:
        "This server speaks plain http, and go sends no credentials over http: it skips ~/.netrc and refuses a " +
        "user:token in GOPROXY, and GOINSECURE does not change that for a proxy. Serve protodepot over https " +
        "(serve --tls-cert/--tls-key, or a TLS proxy) to use it as GOPROXY; until then, fetch the module into a " +
        "local file:// proxy (a module with dependencies needs theirs fetched the same way).",
    },
    { title: "go get", text: get(`file://${local}`) },
  ];
}

export function pythonSteps(u: StepContext): UseStep[] {
  const { input, template, synthetic } = u;
  const project = pypiProjectName({
    template: { owner: template.owner, name: template.name },
    module: { owner: input.commit.owner, name: input.commit.module },
  });
  return [
    ...(input.isPrivate
      ? [{ ...login(input.baseUrl, "netrc"), note: `${loginNote} pip reads ~/.netrc for the index's host.` }]
      : []),
    {
      title: "pip install",
      text: `pip install --index-url ${input.baseUrl}/pypi/simple/ ${project}==${semverVersion(synthetic)}`,
    },
  ];
}

export function mavenSteps(u: StepContext): UseStep[] {
  const { input, parts, synthetic } = u;
  const { baseUrl, mavenGroupId } = input;
  const artifact = mavenArtifactId(parts);
  const version = semverVersion(synthetic);
  const gradleRepo = [
    "repositories {",
    "    maven {",
    `        url = uri("${baseUrl}/maven/")`,
    ...(isHttp(baseUrl) ? ["        isAllowInsecureProtocol = true"] : []),
    ...(input.isPrivate
      ? [
          "        credentials {",
          '            username = "token"',
          '            password = providers.gradleProperty("protodepotToken").get()',
          "        }",
        ]
      : []),
    "    }",
    "}",
    "dependencies {",
    `    implementation("${mavenGroupId}:${artifact}:${version}")`,
    "}",
  ].join("\n");
  return [
    input.isPrivate
      ? {
          ...login(baseUrl, "maven"),
          note: `${loginNote} ~/.m2/settings.xml gets a <server> with your token and an active profile with this repository.`,
        }
      : {
          title: "~/.m2/settings.xml",
          text:
            "<settings>\n  <profiles><profile><id>protodepot</id>\n" +
            `    <repositories><repository><id>protodepot</id><url>${baseUrl}/maven/</url></repository></repositories>\n` +
            "  </profile></profiles>\n  <activeProfiles><activeProfile>protodepot</activeProfile></activeProfiles>\n</settings>",
        },
    {
      title: "pom.xml",
      text: `<dependency>\n  <groupId>${mavenGroupId}</groupId>\n  <artifactId>${artifact}</artifactId>\n  <version>${version}</version>\n</dependency>`,
    },
    {
      title: "Gradle: build.gradle.kts",
      text: gradleRepo,
      ...(input.isPrivate
        ? { note: "Put protodepotToken=… in ~/.gradle/gradle.properties (mode 0600)." }
        : {}),
    },
  ];
}

export function rubySteps(u: StepContext): UseStep[] {
  const { input, parts, synthetic } = u;
  const { baseUrl } = input;
  const name = gemName(parts);
  const version = semverVersion(synthetic);
  // Bundler keys credentials by host without the port; gem sends the URL's user name as the token (Basic TOKEN:).
  const source = input.isPrivate ? baseUrl.replace("://", "://$PROTODEPOT_TOKEN@") : baseUrl;
  return [
    ...(input.isPrivate
      ? [
          readToken,
          {
            title: "Bundler credentials",
            text: `bundle config set --global ${new URL(baseUrl).hostname} "$PROTODEPOT_TOKEN"`,
          },
        ]
      : []),
    { title: "Gemfile", text: `source "${baseUrl}/gems/" do\n  gem "${name}", "${version}"\nend` },
    { title: "gem install", text: `gem install --source ${source}/gems/ ${name} -v ${version}` },
  ];
}

export function cargoSteps(u: StepContext): UseStep[] {
  const { input, template, synthetic } = u;
  const crate = cargoCrateName({
    template: { owner: template.owner, name: template.name },
    module: { owner: input.commit.owner, name: input.commit.module },
  });
  // Private crates need the token root (cargo sends a token only where config.json asks for one).
  const config = input.isPrivate
    ? `[registries.protodepot]\nindex = "sparse+${input.baseUrl}/cargo/token/index/"\ncredential-provider = "cargo:token"`
    : `[registries.protodepot]\nindex = "sparse+${input.baseUrl}/cargo/index/"`;
  return [
    ...(input.isPrivate
      ? [
          readToken,
          { title: "Cargo's token", text: 'export CARGO_REGISTRIES_PROTODEPOT_TOKEN="$PROTODEPOT_TOKEN"' },
        ]
      : []),
    { title: "~/.cargo/config.toml", text: config },
    {
      title: "Cargo.toml",
      text: `[dependencies]\n${crate} = { version = "=${semverVersion(synthetic)}", registry = "protodepot" }`,
    },
  ];
}

export function cmakeSteps(u: StepContext): UseStep[] {
  const { input, template, synthetic } = u;
  const { baseUrl } = input;
  const parts = {
    template: { owner: template.owner, name: template.name },
    module: { owner: input.commit.owner, name: input.commit.module },
  };
  const name = cmakePackageName(parts);
  const path = cmakeArchivePath(parts, semverVersion(synthetic));
  const netrc = input.isPrivate ? " --netrc" : "";
  return [
    ...(input.isPrivate ? [login(baseUrl, "netrc")] : []),
    { title: "The archive's SHA-256", text: `curl -fsS${netrc} ${baseUrl}${path}.sha256` },
    {
      title: "CMakeLists.txt",
      text:
        `include(FetchContent)\nFetchContent_Declare(${name}\n  URL "${baseUrl}${path}"\n  URL_HASH SHA256=…)\n` +
        `FetchContent_MakeAvailable(${name})\ntarget_link_libraries(app PRIVATE ${cmakeAliasTarget(parts)})`,
      ...(input.isPrivate ? { note: "Configure with cmake -DCMAKE_NETRC=REQUIRED (docs/cmake.md)." } : {}),
    },
  ];
}

export function archiveSteps(u: StepContext): UseStep[] {
  const { input, template, templateVersion } = u;
  const { baseUrl, commit } = input;
  const archive = `${baseUrl}/v1/${template.owner}/${template.name}/v${templateVersion}/${commit.owner}/${commit.module}/${commit.id}`;
  const netrc = input.isPrivate ? " --netrc" : "";
  return [
    ...(input.isPrivate
      ? [{ ...login(baseUrl, "netrc"), note: `${loginNote} curl --netrc reads ~/.netrc.` }]
      : []),
    ...(
      [
        ["", "The module's files"],
        [".include_imports", "With its imports"],
        [".include_imports_and_wkt", "With its imports and the well-known types"],
      ] as const
    ).map(([suffix, title]) => ({ title, text: `curl -fsS${netrc} ${archive}${suffix}.tar.gz | tar xz` })),
  ];
}

/** The `deps:` entry of a buf.yaml that depends on the module, and the command that pins it in buf.lock. */
export function bufSteps(input: UseInput): UseStep[] {
  const { baseUrl, commit } = input;
  return [
    ...(input.isPrivate ? [{ ...login(baseUrl, "netrc"), note: `${loginNote} buf reads ~/.netrc.` }] : []),
    {
      title: "buf.yaml",
      text: `deps:\n  - ${new URL(baseUrl).host}/${commit.owner}/${commit.module}`,
      ...(isHttp(baseUrl)
        ? { note: "This server speaks plain http: buf needs tls.use: false in its config.yaml (README.md)." }
        : {}),
    },
    { title: "Pin it in buf.lock", text: "buf dep update" },
  ];
}
