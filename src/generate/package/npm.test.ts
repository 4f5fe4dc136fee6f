import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import type { PluginVersion, Template, TemplateVersion } from "../../core/types.js";
import { readTarGz } from "../../packaging/tar.js";
import { fixtureCommit } from "../testing/package-fixtures.js";
import {
  isProtopluginPlugin,
  npmDependencies,
  npmIntegrity,
  npmPackager,
  npmPluginOptions,
  renderPackageJson,
  rewriteDependencyImports,
} from "./npm.js";
import type { PackageContext } from "./packager.js";

const es: PluginVersion = {
  pluginId: "p1",
  owner: "bufbuild",
  name: "es",
  version: "v2.13.0",
  source: { kind: "host", command: ["protoc-gen-es"] },
  runtimeLibraries: { npm: [{ package: "@bufbuild/protobuf", version: "^2.13.0" }] },
  registryOptions: {},
  createdAt: "2024-01-01T00:00:00Z",
};
const other: PluginVersion = {
  ...es,
  owner: "acme",
  name: "ts",
  runtimeLibraries: { npm: [{ package: "acme-rt", version: "1.0.0" }] },
};

const template: Template = {
  id: "t1",
  owner: "protodepot",
  name: "es",
  visibility: "public",
  plugins: [{ owner: "bufbuild", name: "es", parameter: "target=ts" }],
  createdAt: "2024-01-01T00:00:00Z",
};
const templateVersion: TemplateVersion = {
  templateId: "t1",
  number: 3,
  plugins: [],
  createdAt: "2024-01-01T00:00:00Z",
};
const commit = fixtureCommit;
const moneyCommit = "a".repeat(32);

function context(over: Partial<PackageContext> = {}): PackageContext {
  return {
    template,
    templateVersion,
    commit,
    deps: [{ commitId: moneyCommit, owner: "demo", module: "money", seq: 2, direct: true }],
    plugins: [es],
    scope: "module",
    goHost: "protodepot.local",
    npmScope: "protodepot",
    protoFiles: {
      module: ["demo/payments/v1/payments.proto"],
      deps: new Map([[moneyCommit, ["demo/money/v1/money.proto"]]]),
    },
    ...over,
  };
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const file = (path: string, content: string) => ({ path, content: new TextEncoder().encode(content) });

describe("npm integrity", async () => {
  it("computes integrity and shasum as npm does", async () => {
    const bytes = new TextEncoder().encode("hello");
    assert.deepEqual(await npmIntegrity(bytes), {
      integrity: `sha512-${createHash("sha512").update("hello").digest("base64")}`,
      shasum: "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d",
    });
  });
});

describe("npm plugin options", () => {
  it("forces JS + declarations, .js imports, and points dependency files at their package", () => {
    assert.deepEqual(npmPluginOptions(es, context()), [
      "target=js+dts",
      "import_extension=.js",
      "rewrite_imports=./demo/money/v1/money_pb.js:@protodepot/protodepot_es_demo_money",
    ]);
  });

  it("leaves plugins that are not built on protoplugin alone", () => {
    assert.equal(isProtopluginPlugin(other), false);
    assert.deepEqual(npmPluginOptions(other, context()), []);
    const declared = { ...other, registryOptions: { npm: { protoplugin: true } } };
    assert.equal(isProtopluginPlugin(declared), true);
  });
});

describe("npm dependencies and package.json", () => {
  it("lists plugin runtime libraries and dependency packages at their synthetic versions, sorted", () => {
    const twice = {
      ...es,
      runtimeLibraries: { npm: [{ package: "@bufbuild/protobuf", version: "^2.2.0" }] },
    };
    assert.deepEqual(npmDependencies(context({ plugins: [twice, es, other] })), {
      "@bufbuild/protobuf": "^2.13.0",
      "@protodepot/protodepot_es_demo_money": "1.3.2",
      "acme-rt": "1.0.0",
    });
  });

  it("renders a fixed key order with exports for paths with and without .js", () => {
    const json = renderPackageJson(context(), { "@bufbuild/protobuf": "^2.13.0" });
    assert.ok(json.endsWith("}\n"));
    const parsed = JSON.parse(json) as Record<string, unknown>;
    assert.deepEqual(Object.keys(parsed), [
      "name",
      "version",
      "description",
      "type",
      "sideEffects",
      "exports",
      "dependencies",
    ]);
    assert.equal(parsed.name, "@protodepot/protodepot_es_demo_payments");
    assert.equal(parsed.version, "1.3.7");
    assert.equal(parsed.type, "module");
    assert.match(
      String(parsed.description),
      /module demo\/payments \(commit c{32}\) by template protodepot\/es v3/,
    );
    assert.deepEqual(parsed.exports, {
      "./package.json": "./package.json",
      "./*.js": { types: "./*.d.ts", default: "./*.js" },
      "./*": { types: "./*.d.ts", default: "./*.js" },
    });
  });
});

describe("import rewriting for plugins without rewrite_imports", () => {
  it("points relative imports of dependency files at the dependency's package, and keeps own imports", () => {
    const files = [
      file(
        "demo/payments/v1/payments.ts",
        [
          `import { Money } from "../../money/v1/money";`,
          `import { Other } from "./other_pb.js";`,
          `export * from '../../money/v1/money_pb.js';`,
          `const lazy = import("../../money/v1/money.js");`,
          `import { Unknown } from "../../unknown/v1/unknown.js";`,
        ].join("\n"),
      ),
      file("demo/payments/v1/other_pb.js", "export const Other = 1;"),
      file("demo/payments/v1/data.json", `{"from": "../../money/v1/money"}`),
    ];
    const out = rewriteDependencyImports(files, context());
    assert.equal(
      text(out[0]?.content ?? new Uint8Array()),
      [
        `import { Money } from "@protodepot/protodepot_es_demo_money/demo/money/v1/money";`,
        `import { Other } from "./other_pb.js";`,
        `export * from '@protodepot/protodepot_es_demo_money/demo/money/v1/money_pb.js';`,
        `const lazy = import("@protodepot/protodepot_es_demo_money/demo/money/v1/money.js");`,
        `import { Unknown } from "../../unknown/v1/unknown.js";`,
      ].join("\n"),
    );
    assert.equal(out[1], files[1]);
    assert.equal(out[2], files[2]);
  });
});

describe("npm packager", () => {
  const generated = [
    file(
      "demo/payments/v1/payments_pb.js",
      `import { x } from "@protodepot/protodepot_es_demo_money/demo/money/v1/money_pb.js";\n`,
    ),
    file("demo/payments/v1/payments_pb.d.ts", "export declare const y: number;\n"),
  ];

  it("packs package.json and the files under package/, deterministically", async () => {
    const a = await npmPackager.package(generated, context());
    const b = await npmPackager.package([...generated].reverse(), context());
    assert.deepEqual(a.bytes, b.bytes);
    const entries = await readTarGz(a.bytes);
    assert.deepEqual(
      entries.map((e) => e.path),
      [
        "package/demo/payments/v1/payments_pb.d.ts",
        "package/demo/payments/v1/payments_pb.js",
        "package/package.json",
      ],
    );
    const manifest = JSON.parse(text(entries[2]?.content ?? new Uint8Array())) as { dependencies: unknown };
    assert.deepEqual(manifest.dependencies, {
      "@bufbuild/protobuf": "^2.13.0",
      "@protodepot/protodepot_es_demo_money": "1.3.2",
    });
  });

  it("records integrity, shasum and dependencies of exactly the bytes it returns", async () => {
    const { bytes, extra } = await npmPackager.package(generated, context());
    assert.deepEqual(extra, {
      integrity: `sha512-${createHash("sha512").update(bytes).digest("base64")}`,
      shasum: createHash("sha1").update(bytes).digest("hex"),
      dependencies: JSON.stringify({
        "@bufbuild/protobuf": "^2.13.0",
        "@protodepot/protodepot_es_demo_money": "1.3.2",
      }),
    });
  });

  it("generates with the module scope only", () => {
    assert.equal(npmPackager.flavour, "npm");
    assert.equal(npmPackager.fixedScope, "module");
  });
});
