import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Commit, PluginVersion, Template } from "../core/types.js";
import { bufDeps, templateUse } from "./use-module.js";

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
const input = {
  baseUrl: "http://127.0.0.1:8080",
  goHost: "protodepot.local",
  npmScope: "protodepot",
  commit,
};

describe("templateUse", () => {
  it("fills in the synthetic version of the template version and the commit seq", () => {
    const use = templateUse({ ...input, needsToken: false }, template, 3, [
      plugin({
        npm: [{ package: "@bufbuild/protobuf", version: "^2" }],
        go: [{ module: "x.test/y", version: "v1.0.0" }],
      }),
    ]);
    assert.equal(use.goVersion, "v1.3.7");
    assert.deepEqual(
      use.commands.map((c) => c.text),
      [
        "@protodepot:registry=http://127.0.0.1:8080/npm/",
        "npm install @protodepot/protodepot_es_demo_payments@1.3.7",
        'npmScopes:\n  protodepot:\n    npmRegistryServer: "http://127.0.0.1:8080/npm/"\nnpmPreapprovedPackages: ["@protodepot/*"]\nunsafeHttpWhitelist: ["127.0.0.1"]',
        "GOPROXY=http://127.0.0.1:8080/go GONOSUMDB=protodepot.local go get protodepot.local/protodepot/es/demo/payments@v1.3.7",
        `curl -fsS http://127.0.0.1:8080/v1/protodepot/es/v3/demo/payments/${commit.id}.tar.gz | tar xz`,
        `curl -fsS http://127.0.0.1:8080/v1/protodepot/es/v3/demo/payments/${commit.id}.include_imports.tar.gz | tar xz`,
        `curl -fsS http://127.0.0.1:8080/v1/protodepot/es/v3/demo/payments/${commit.id}.include_imports_and_wkt.tar.gz | tar xz`,
      ],
    );
  });
  it("offers only the ecosystems the plugins have runtime libraries for, and a token placeholder when private", () => {
    const use = templateUse({ ...input, needsToken: true }, template, 1, [
      plugin({ npm: [{ package: "a", version: "1" }] }),
    ]);
    assert.deepEqual(
      use.commands.map((c) => c.ecosystem),
      ["npm", "npm", "npm", "archive", "archive", "archive"],
    );
    assert.match(
      use.commands[0]?.text ?? "",
      /^\/\/127\.0\.0\.1:8080\/npm\/:_authToken=\$\{PROTODEPOT_TOKEN\}$/m,
    );
    // Yarn 4 too: the token by reference, and the age gate lifted for our scope.
    assert.match(use.commands[2]?.text ?? "", /^ {4}npmAuthToken: "\$\{PROTODEPOT_TOKEN\}"$/m);
    assert.match(use.commands[2]?.text ?? "", /^npmPreapprovedPackages: \["@protodepot\/\*"\]$/m);
    assert.match(use.commands[3]?.text ?? "", /-H "Authorization: Bearer \$PROTODEPOT_TOKEN"/);
  });
  it("offers pip install for a template with a Python runtime, the token in the index URL when private", () => {
    const python = { ...template, name: "python" };
    const libs = { python: [{ package: "protobuf", version: ">=3.20" }] };
    const open = templateUse({ ...input, needsToken: false }, python, 2, [plugin(libs)]);
    assert.equal(
      open.commands[0]?.text,
      "pip install --index-url http://127.0.0.1:8080/pypi/simple/ protodepot-python-demo-payments==1.2.7",
    );
    const hidden = templateUse({ ...input, needsToken: true }, python, 2, [plugin(libs)]);
    assert.equal(
      hidden.commands[0]?.text,
      "pip install --index-url http://__token__:$PROTODEPOT_TOKEN@127.0.0.1:8080/pypi/simple/ protodepot-python-demo-payments==1.2.7",
    );
    assert.deepEqual(
      hidden.commands.map((c) => c.ecosystem),
      ["pip", "archive", "archive", "archive"],
    );
  });
  it("shows a Gemfile source block and gem install for Ruby runtimes, the token as gem and Bundler send it", () => {
    const ruby = { ...template, name: "ruby" };
    const libs = { ruby: [{ package: "google-protobuf", version: "~> 3.21" }] };
    const open = templateUse({ ...input, needsToken: false }, ruby, 2, [plugin(libs)]);
    assert.deepEqual(
      open.commands.filter((c) => c.ecosystem === "gem").map((c) => c.text),
      [
        'source "http://127.0.0.1:8080/gems/" do\n  gem "protodepot_ruby_demo_payments", "1.2.7"\nend',
        "gem install --source http://127.0.0.1:8080/gems/ protodepot_ruby_demo_payments -v 1.2.7",
      ],
    );
    const hidden = templateUse({ ...input, needsToken: true }, ruby, 2, [plugin(libs)]);
    assert.match(
      hidden.commands[0]?.text ?? "",
      /^# bundle config set --global 127\.0\.0\.1 \$PROTODEPOT_TOKEN\n/,
    );
    assert.match(
      hidden.commands[1]?.text ?? "",
      /--source http:\/\/\$PROTODEPOT_TOKEN@127\.0\.0\.1:8080\/gems\//,
    );
  });
  it("offers cargo lines for a Rust runtime (the token root when private) and FetchContent for protoc's cpp", () => {
    const rust = { ...template, name: "rust" };
    const libs = { rust: [{ crate: "prost", version: "0.11" }] };
    const open = templateUse({ ...input, needsToken: false }, rust, 2, [plugin(libs)]);
    assert.deepEqual(
      open.commands.filter((c) => c.ecosystem === "cargo").map((c) => c.text),
      [
        '[registries.protodepot]\nindex = "sparse+http://127.0.0.1:8080/cargo/index/"',
        '[dependencies]\nprotodepot_rust_demo_payments = { version = "=1.2.7", registry = "protodepot" }',
      ],
    );
    const hidden = templateUse({ ...input, needsToken: true }, rust, 2, [plugin(libs)]);
    assert.match(
      hidden.commands[0]?.text ?? "",
      /cargo\/token\/index\/"\ncredential-provider = "cargo:token"/,
    );
    const cpp: PluginVersion = {
      ...plugin({}),
      source: { kind: "protoc", generator: "cpp", version: "3.21.12" },
    };
    const cmake = templateUse({ ...input, needsToken: false }, { ...template, name: "cpp" }, 2, [cpp]);
    assert.deepEqual(
      cmake.commands.map((c) => c.ecosystem),
      ["cmake", "archive", "archive", "archive"],
    );
    assert.match(
      cmake.commands[0]?.text ?? "",
      /URL "\$\{PROTODEPOT_URL\}\/cmake\/protodepot\/cpp\/demo\/payments\/1\.2\.7\.tar\.gz"/,
    );
  });
  it("shows a settings.xml and the pom dependency for Maven runtimes, with a <server> token when private", () => {
    const java = plugin({
      maven: [{ groupId: "com.google.protobuf", artifactId: "protobuf-java", version: "3.21.12" }],
    });
    const open = templateUse(
      { ...input, mavenGroupId: "protodepot.gen", needsToken: false },
      { ...template, name: "java" },
      2,
      [java],
    );
    assert.deepEqual(
      open.commands.map((c) => c.ecosystem),
      ["maven", "maven", "archive", "archive", "archive"],
    );
    assert.match(open.commands[0]?.text ?? "", /<url>http:\/\/127\.0\.0\.1:8080\/maven\/<\/url>/);
    assert.doesNotMatch(open.commands[0]?.text ?? "", /<server>/);
    assert.equal(
      open.commands[1]?.text,
      "<dependency>\n  <groupId>protodepot.gen</groupId>\n  <artifactId>protodepot_java_demo_payments</artifactId>\n  <version>1.2.7</version>\n</dependency>",
    );
    const closed = templateUse({ ...input, mavenGroupId: "protodepot.gen", needsToken: true }, template, 2, [
      java,
    ]);
    assert.match(
      closed.commands[0]?.text ?? "",
      /<server><id>protodepot<\/id><username>token<\/username><password>\$\{env\.PROTODEPOT_TOKEN\}<\/password><\/server>/,
    );
    // Without a configured group (an older caller), no Maven lines.
    assert.deepEqual(
      templateUse({ ...input, needsToken: false }, template, 2, [java]).commands.map((c) => c.ecosystem),
      ["archive", "archive", "archive"],
    );
  });
  it("names the module in buf deps by this server's host", () => {
    assert.match(bufDeps(input.baseUrl, commit), /^ {2}- 127\.0\.0\.1:8080\/demo\/payments$/m);
  });
});
