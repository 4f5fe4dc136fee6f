import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import type { PluginVersion } from "../../core/types.js";
import { extrasOf } from "../../services/artifact-extras.js";
import { fixtureCommit, fixtureTemplate, fixtureTemplateVersion } from "../testing/package-fixtures.js";
import type { PackageContext } from "./packager.js";
import { createGem, gemDependencies, rubygemsPackager } from "./rubygems.js";

const exec = promisify(execFile);
const noRuby = await exec("ruby", ["-e", "require 'rubygems/package'"]).then(
  () => false,
  () => "ruby is missing",
);

const ruby: PluginVersion = {
  pluginId: "p1",
  owner: "protocolbuffers",
  name: "ruby",
  version: "v3.21.12",
  source: { kind: "protoc", generator: "ruby", version: "3.21.12" },
  runtimeLibraries: { ruby: [{ package: "google-protobuf", version: "~> 3.21" }] },
  registryOptions: {},
  createdAt: "2024-01-01T00:00:00Z",
};
const grpc: PluginVersion = {
  ...ruby,
  owner: "grpc",
  runtimeLibraries: {
    ruby: [
      { package: "grpc", version: ">= 1.51, < 2" },
      { package: "google-protobuf", version: "~> 3.21, >= 3.21.1" },
    ],
  },
};
const template = fixtureTemplate("ruby");
const templateVersion = fixtureTemplateVersion;
const commit = fixtureCommit;

function context(over: Partial<PackageContext> = {}): PackageContext {
  return {
    template,
    templateVersion,
    commit,
    deps: [
      { commitId: "b".repeat(32), owner: "demo", module: "money", seq: 3, direct: true },
      { commitId: "a".repeat(32), owner: "acme", module: "common-types", seq: 1, direct: false },
    ],
    plugins: [ruby],
    scope: "module",
    goHost: "protodepot.local",
    npmScope: "protodepot",
    ...over,
  };
}

const text = (s: string) => new TextEncoder().encode(s);
const files = [
  { path: "demo/payments/v1/payments_pb.rb", content: text("# payments\n") },
  { path: "demo/payments/v1/a_pb.rb", content: text("# a\n") },
];

describe("rubygems packager", () => {
  it("merges the runtime libraries of one gem and pins dependency modules exactly, sorted", () => {
    assert.deepEqual(gemDependencies(context({ plugins: [ruby, grpc] })), [
      {
        name: "google-protobuf",
        requirement: [
          ["~>", "3.21"],
          [">=", "3.21.1"],
        ],
      },
      {
        name: "grpc",
        requirement: [
          [">=", "1.51"],
          ["<", "2"],
        ],
      },
      { name: "protodepot_ruby_acme_common-types", requirement: [["=", "1.2.1"]] },
      { name: "protodepot_ruby_demo_money", requirement: [["=", "1.2.3"]] },
    ]);
  });

  it("gives the same bytes for the same inputs, whatever the order of the files", async () => {
    const a = await rubygemsPackager.package(files, context());
    const b = await rubygemsPackager.package([...files].reverse(), context());
    assert.deepEqual(Buffer.from(a.bytes), Buffer.from(b.bytes));
    assert.deepEqual(a.extra, b.extra);
    const record = {
      templateId: "t1",
      templateVersion: 2,
      commitId: commit.id,
      scope: "module" as const,
      flavour: "rubygems" as const,
      blob: "x",
      digest: "sha256:x",
      size: a.bytes.byteLength,
      extra: a.extra,
      createdAt: "",
    };
    const extras = extrasOf(record, "rubygems");
    assert.ok(extras);
    assert.equal(JSON.parse(extras.pins ?? "[]").length, 2);
  });

  it("is a gem RubyGems verifies, with its spec and files", { skip: noRuby }, async () => {
    const dir = await mkdtemp(join(tmpdir(), "protodepot-gem-"));
    try {
      const { bytes } = await createGem(files, context());
      const path = join(dir, "x.gem");
      await writeFile(path, bytes);
      const script =
        'require "rubygems/package"; pkg = Gem::Package.new(ARGV[0]); pkg.verify; s = pkg.spec; ' +
        "puts s.name, s.version, s.files.join(','), s.runtime_dependencies.map(&:to_s).join(';'), s.required_ruby_version, s.require_paths.join(',')";
      const { stdout } = await exec("ruby", ["-e", script, path]);
      assert.deepEqual(stdout.trim().split("\n"), [
        "protodepot_ruby_demo_payments",
        "1.2.7",
        "lib/demo/payments/v1/a_pb.rb,lib/demo/payments/v1/payments_pb.rb",
        "google-protobuf (~> 3.21);protodepot_ruby_acme_common-types (= 1.2.1);protodepot_ruby_demo_money (= 1.2.3)",
        ">= 2.5",
        "lib",
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("keeps a quick spec Ruby inflates and loads as the same specification", { skip: noRuby }, async () => {
    const { extra } = await rubygemsPackager.package(files, context());
    const script =
      'require "rubygems"; require "zlib"; s = Marshal.load(Zlib::Inflate.inflate($stdin.binmode.read)); ' +
      "puts s.class, s.name, s.version, s.platform, s.dependencies.map(&:to_s).join(';'), s.required_ruby_version";
    const child = exec("ruby", ["-e", script]);
    child.child.stdin?.end(Buffer.from(extra.quickSpec ?? "", "base64"));
    const { stdout } = await child;
    assert.deepEqual(stdout.trim().split("\n"), [
      "Gem::Specification",
      "protodepot_ruby_demo_payments",
      "1.2.7",
      "ruby",
      "google-protobuf (~> 3.21);protodepot_ruby_acme_common-types (= 1.2.1);protodepot_ruby_demo_money (= 1.2.3)",
      ">= 2.5",
    ]);
  });

  it("refuses a path with a line break, naming the file", async () => {
    await assert.rejects(
      createGem([{ path: "a\nb.rb", content: text("") }], context()),
      /cannot be in a gem: a line break/,
    );
  });
});
