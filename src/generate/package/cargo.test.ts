// The crate packager: Cargo.toml, the lib.rs module tree, extern_file options, index dependencies, and bytes that
// are the same on every run (Cargo.lock checksums depend on it).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, isRegistryError } from "../../core/errors.js";
import type { PluginVersion } from "../../core/types.js";
import { readTarGz } from "../../packaging/tar.js";
import { fixtureCommit, fixtureTemplate, fixtureTemplateVersion } from "../testing/package-fixtures.js";
import { cargoDependencies, cargoPackager, cargoPluginOptions, createCrate, renderLibRs } from "./cargo.js";
import type { PackageContext } from "./packager.js";

const prost: PluginVersion = {
  pluginId: "p1",
  owner: "protodepot",
  name: "prost",
  version: "v0.11.6",
  source: { kind: "host", command: ["/usr/bin/protoc-gen-protodepot-prost"] },
  runtimeLibraries: {
    rust: [
      { crate: "prost", version: "0.11" },
      { crate: "prost-types", version: "0.11" },
    ],
  },
  registryOptions: {},
  createdAt: "2024-01-01T00:00:00Z",
};
const other: PluginVersion = {
  ...prost,
  name: "other",
  runtimeLibraries: { rust: [{ crate: "prost", version: ">=0.11.6" }] },
};
const template = fixtureTemplate("rust");
const templateVersion = fixtureTemplateVersion;
const commit = fixtureCommit;

function context(over: Partial<PackageContext> = {}): PackageContext {
  return {
    template,
    templateVersion,
    commit,
    deps: [
      { commitId: "a".repeat(32), owner: "acme", module: "common-types", seq: 1, direct: false },
      { commitId: "b".repeat(32), owner: "demo", module: "money", seq: 3, direct: true },
    ],
    plugins: [prost],
    scope: "module",
    goHost: "protodepot.local",
    npmScope: "protodepot",
    protoFiles: {
      module: ["demo/payments/v1/payments.proto"],
      deps: new Map([
        ["a".repeat(32), ["acme/types/v1/types.proto"]],
        ["b".repeat(32), ["demo/money/v1/money.proto", "demo/money/v1/odd,name.proto"]],
      ]),
    },
    ...over,
  };
}

const encoder = new TextEncoder();
const files = [
  { path: "demo.payments.v1.rs", content: encoder.encode("pub struct Payment {}\n") },
  { path: "demo.payments.rs", content: encoder.encode("pub struct Shared {}\n") },
  { path: "acme.type.v1.rs", content: encoder.encode("pub struct T {}\n") },
  { path: "_.rs", content: encoder.encode("pub struct NoPackage {}\n") },
];

describe("cargo packager", () => {
  it("maps every dependency module's files to its crate's library, only for plugins with a Rust runtime", () => {
    assert.deepEqual(cargoPluginOptions(prost, context()), [
      "extern_file=acme/types/v1/types.proto=protodepot_rust_acme_common_types",
      "extern_file=demo/money/v1/money.proto=protodepot_rust_demo_money",
    ]);
    assert.deepEqual(cargoPluginOptions({ ...prost, runtimeLibraries: {} }, context()), []);
  });

  it("depends on the runtime crates from crates.io (requirements of one crate joined) and pins dependency crates", () => {
    const { deps, pins } = cargoDependencies(context({ plugins: [prost, other] }));
    assert.deepEqual(
      deps.map((d) => [d.name, d.req, d.registry]),
      [
        ["prost", "0.11, >=0.11.6", "https://github.com/rust-lang/crates.io-index"],
        ["prost-types", "0.11", "https://github.com/rust-lang/crates.io-index"],
        ["protodepot_rust_acme_common-types", "=1.2.1", undefined],
        ["protodepot_rust_demo_money", "=1.2.3", undefined],
      ],
    );
    assert.deepEqual(pins[1], { template: "protodepot/rust", module: "demo/money", version: "1.2.3" });
  });

  it("builds lib.rs as a module tree mirroring packages, keywords escaped, the package-less file at the root", () => {
    assert.equal(
      renderLibRs(files, "// header"),
      [
        "// header",
        'include!("_.rs");',
        "pub mod acme {",
        "    pub mod r#type {",
        "        pub mod v1 {",
        '            include!("acme.type.v1.rs");',
        "        }",
        "    }",
        "}",
        "pub mod demo {",
        "    pub mod payments {",
        '        include!("demo.payments.rs");',
        "        pub mod v1 {",
        '            include!("demo.payments.v1.rs");',
        "        }",
        "    }",
        "}",
        "",
      ].join("\n"),
    );
    assert.throws(
      () => renderLibRs([{ path: "Demo.V1.rs", content: new Uint8Array() }], ""),
      (err) => isRegistryError(err, Code.Unprocessable),
    );
  });

  it("packs {name}-{version}/Cargo.toml and src/, with the same bytes and cksum every time", async () => {
    const a = await cargoPackager.package(files, context());
    const b = await cargoPackager.package([...files].reverse(), context());
    assert.deepEqual(a.bytes, b.bytes);
    assert.deepEqual(a.extra, b.extra);
    assert.match(a.extra.cksum ?? "", /^[0-9a-f]{64}$/);
    const entries = await readTarGz(a.bytes);
    const root = "protodepot_rust_demo_payments-1.2.7";
    assert.deepEqual(
      entries.map((e) => e.path),
      [
        `${root}/Cargo.toml`,
        `${root}/src/_.rs`,
        `${root}/src/acme.type.v1.rs`,
        `${root}/src/demo.payments.rs`,
        `${root}/src/demo.payments.v1.rs`,
        `${root}/src/lib.rs`,
      ],
    );
    const toml = new TextDecoder().decode(entries[0]?.content);
    assert.match(toml, /^name = "protodepot_rust_demo_payments"$/m);
    assert.match(toml, /^version = "1\.2\.7"$/m);
    assert.match(toml, /\[dependencies\.protodepot_rust_demo_money\]\nversion = "=1\.2\.3"/);
    assert.match(toml, /\[dependencies\.prost-types\]\nversion = "0\.11"/);
  });

  it("refuses a generated lib.rs, templates without a Rust plugin, and a template owner cargo cannot name", async () => {
    await assert.rejects(createCrate([{ path: "lib.rs", content: new Uint8Array() }], context()), (err) =>
      isRegistryError(err, Code.Unprocessable),
    );
    await assert.rejects(
      createCrate(files, context({ plugins: [{ ...prost, runtimeLibraries: { npm: [] } }] })),
      (err) => isRegistryError(err, Code.Unprocessable) && /makes no crates/.test(err.message),
    );
    await assert.rejects(
      createCrate(files, context({ template: { ...template, owner: "9fans" } })),
      (err) => isRegistryError(err, Code.Unprocessable) && /starting with a digit/.test(err.message),
    );
  });
});
