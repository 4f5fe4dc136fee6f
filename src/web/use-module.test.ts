import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Commit, PluginVersion, Template } from "../core/types.js";
import {
  offeredTemplates,
  type TemplateChoice,
  templateEcosystems,
  type UseEcosystem,
  type UseInput,
  useSteps,
} from "./use-module.js";

const commit: Commit = {
  id: "0123456789abcdef0123456789abcdef",
  moduleId: "m",
  owner: "demo",
  module: "payments",
  seq: 7,
  digest: "sha256:00",
  sourcesBlob: "s",
  imageBlob: "i",
  createdBy: "admin",
  createdAt: "2026-01-01T00:00:00Z",
};
const template: Template = {
  id: "t",
  owner: "protodepot",
  name: "es",
  visibility: "public",
  plugins: [],
  createdAt: "",
};
const plugin = (libs: PluginVersion["runtimeLibraries"]): PluginVersion => ({
  pluginId: "p",
  owner: "bufbuild",
  name: "es",
  version: "v2.0.0",
  source: { kind: "host", command: ["/bin/true"] },
  runtimeLibraries: libs,
  registryOptions: {},
  createdAt: "",
});
const http: UseInput = {
  baseUrl: "http://127.0.0.1:8080",
  goHost: "protodepot.local",
  npmScope: "protodepot",
  mavenGroupId: "protodepot.gen",
  commit,
  isPrivate: false,
};
const https: UseInput = { ...http, baseUrl: "https://registry.example:8443" };
const npmLibs = { npm: [{ package: "@bufbuild/protobuf", version: "^2" }] };
const goLibs = { go: [{ module: "x.test/y", version: "v1.0.0" }] };
const texts = (
  input: UseInput,
  eco: UseEcosystem,
  libs: PluginVersion["runtimeLibraries"] = npmLibs,
  t = template,
) => useSteps(input, eco, { template: t, version: 3, plugins: [plugin(libs)] }).map((s) => s.text);

describe("templateEcosystems", () => {
  it("offers what the plugins' runtime libraries and generators make, and archives always", () => {
    assert.deepEqual(templateEcosystems(http, template, [plugin({ ...npmLibs, ...goLibs })]), [
      "npm",
      "go",
      "archive",
    ]);
    const java = plugin({ maven: [{ groupId: "g", artifactId: "a", version: "1" }] });
    assert.deepEqual(templateEcosystems(http, template, [java]), ["maven", "archive"]);
    // Without a configured Maven group there is no Maven repository to install from.
    assert.deepEqual(templateEcosystems({ commit }, template, [java]), ["archive"]);
    const cpp: PluginVersion = { ...plugin({}), source: { kind: "protoc", generator: "cpp", version: "3" } };
    assert.deepEqual(templateEcosystems(http, template, [cpp]), ["cmake", "archive"]);
  });
});

describe("offeredTemplates", () => {
  const choice = (name: string, ecosystems: UseEcosystem[], extra: Partial<TemplateChoice> = {}) => ({
    template: { owner: name.split("/")[0] ?? "", name: name.split("/")[1] ?? "" },
    builtin: name.startsWith("protodepot/"),
    failed: false,
    ecosystems,
    ...extra,
  });
  const names = (list: readonly { template: { owner: string; name: string } }[]) =>
    list.map((c) => `${c.template.owner}/${c.template.name}`);
  const all = [
    choice("acme/zeta", ["npm", "archive"]),
    choice("acme/all", ["npm", "go", "python", "archive"]),
    choice("acme/alpha", ["npm", "archive"]),
    choice("protodepot/es", ["npm", "archive"]),
    choice("acme/broken", ["npm", "archive"], { failed: true }),
    choice("protodepot/go", ["go", "archive"]),
    choice("acme/plain", ["archive"]),
  ];
  it("offers built-in templates first, then those made for the ecosystem alone, then by name", () => {
    assert.deepEqual(names(offeredTemplates(all, "npm")), [
      "protodepot/es",
      "acme/alpha",
      "acme/zeta",
      "acme/all",
    ]);
    assert.deepEqual(names(offeredTemplates(all, "go")), ["protodepot/go", "acme/all"]);
  });
  it("never offers a template that cannot make the ecosystem, nor one whose generation failed", () => {
    assert.deepEqual(names(offeredTemplates(all, "python")), ["acme/all"]);
    assert.ok(!names(offeredTemplates(all, "archive")).includes("acme/broken"));
    assert.deepEqual(offeredTemplates(all, "cargo"), []);
    assert.equal(offeredTemplates(all, "archive").length, 6);
  });
});

describe("useSteps", () => {
  it("fills in the synthetic version of the template version and the commit seq", () => {
    assert.deepEqual(texts(http, "npm"), [
      "@protodepot:registry=http://127.0.0.1:8080/npm/",
      "npm install @protodepot/protodepot_es_demo_payments@1.3.7",
      'npmScopes:\n  protodepot:\n    npmRegistryServer: "http://127.0.0.1:8080/npm/"\nnpmPreapprovedPackages: ["@protodepot/*"]\nunsafeHttpWhitelist: ["127.0.0.1"]',
      "yarn add @protodepot/protodepot_es_demo_payments@1.3.7",
    ]);
    assert.deepEqual(texts(http, "go", goLibs), [
      "GOPROXY=http://127.0.0.1:8080/go GONOSUMDB=protodepot.local go get protodepot.local/protodepot/es/demo/payments@v1.3.7",
    ]);
    assert.deepEqual(texts(http, "archive"), [
      `curl -fsS http://127.0.0.1:8080/v1/protodepot/es/v3/demo/payments/${commit.id}.tar.gz | tar xz`,
      `curl -fsS http://127.0.0.1:8080/v1/protodepot/es/v3/demo/payments/${commit.id}.include_imports.tar.gz | tar xz`,
      `curl -fsS http://127.0.0.1:8080/v1/protodepot/es/v3/demo/payments/${commit.id}.include_imports_and_wkt.tar.gz | tar xz`,
    ]);
  });

  it("sets a private module's clients up with protodepot login, never with a token on the page", () => {
    const priv = { ...https, isPrivate: true };
    const npm = useSteps(priv, "npm", { template, version: 3, plugins: [plugin(npmLibs)] });
    assert.deepEqual(
      npm.map((s) => s.text),
      [
        "protodepot login https://registry.example:8443 --token-stdin --npmrc",
        "npm install @protodepot/protodepot_es_demo_payments@1.3.7",
        "protodepot login https://registry.example:8443 --token-stdin --yarnrc",
        "yarn add @protodepot/protodepot_es_demo_payments@1.3.7",
      ],
    );
    assert.match(npm[2]?.note ?? "", /npmPreapprovedPackages exempts @protodepot/);
    assert.deepEqual(texts(priv, "go", goLibs), [
      "protodepot login https://registry.example:8443 --token-stdin --netrc",
      "GOPROXY=https://registry.example:8443/go GONOSUMDB=protodepot.local go get protodepot.local/protodepot/es/demo/payments@v1.3.7",
    ]);
    assert.deepEqual(texts(priv, "python", { python: [{ package: "protobuf", version: ">=3" }] }), [
      "protodepot login https://registry.example:8443 --token-stdin --netrc",
      "pip install --index-url https://registry.example:8443/pypi/simple/ protodepot-es-demo-payments==1.3.7",
    ]);
    const maven = texts(priv, "maven", { maven: [{ groupId: "g", artifactId: "a", version: "1" }] });
    assert.equal(maven[0], "protodepot login https://registry.example:8443 --token-stdin --maven");
    assert.match(maven[1] ?? "", /<artifactId>protodepot_es_demo_payments<\/artifactId>/);
    assert.match(
      texts(priv, "archive")[1] ?? "",
      /^curl -fsS --netrc https:\/\/registry\.example:8443\/v1\//,
    );
    for (const eco of ["npm", "go", "python", "maven", "rubygems", "cargo", "archive", "buf"] as const) {
      for (const text of texts(priv, eco)) assert.doesNotMatch(text, /pd_|_authToken=|<password>/, eco);
    }
  });

  it("tells a private module's Go users on plain http that go sends no credentials there, and what works", () => {
    const steps = useSteps({ ...http, isPrivate: true }, "go", {
      template,
      version: 3,
      plugins: [plugin(goLibs)],
    });
    const path = "protodepot.local/protodepot/es/demo/payments";
    assert.deepEqual(
      steps.map((s) => s.text),
      [
        "protodepot login http://127.0.0.1:8080 --token-stdin --netrc",
        `d="$HOME/.cache/protodepot/goproxy/${path}/@v" && mkdir -p "$d"\n` +
          `for f in v1.3.7.info v1.3.7.mod v1.3.7.zip; do curl -fsS --netrc -o "$d/$f" http://127.0.0.1:8080/go/${path}/@v/$f; done`,
        `GOPROXY=file://$HOME/.cache/protodepot/goproxy GONOSUMDB=protodepot.local go get ${path}@v1.3.7`,
      ],
    );
    assert.match(steps[1]?.note ?? "", /go sends no credentials over http/);
    assert.match(steps[1]?.note ?? "", /GOINSECURE does not change that/);
  });

  it("asks for buf's tls.use: false on plain http only, and needs no template for buf", () => {
    const bufHttp = useSteps(http, "buf", undefined);
    assert.equal(bufHttp[0]?.text, "deps:\n  - 127.0.0.1:8080/demo/payments");
    assert.match(bufHttp[0]?.note ?? "", /tls\.use: false/);
    assert.equal(useSteps(https, "buf", undefined)[0]?.note, undefined);
    assert.deepEqual(useSteps(http, "npm", undefined), []);
  });

  it("shows Gradle the insecure protocol switch on http only, and a credentials block when private", () => {
    const libs = { maven: [{ groupId: "g", artifactId: "a", version: "1" }] };
    assert.match(texts(http, "maven", libs)[2] ?? "", /isAllowInsecureProtocol = true/);
    assert.doesNotMatch(texts(https, "maven", libs)[2] ?? "", /isAllowInsecureProtocol|credentials/);
    assert.match(
      texts({ ...https, isPrivate: true }, "maven", libs)[2] ?? "",
      /password = providers\.gradleProperty\("protodepotToken"\)\.get\(\)/,
    );
  });
});
