import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { Code, isRegistryError } from "../../core/errors.js";
import type { PluginVersion } from "../../core/types.js";
import { fixtureCommit, fixtureTemplate, fixtureTemplateVersion } from "../testing/package-fixtures.js";
import type { PackageContext } from "./packager.js";
import { createWheel, pypiPackager, pypiRequiresDist, recordHash, renderMetadata } from "./pypi.js";

const exec = promisify(execFile);
const noPython = await exec("/usr/bin/python3", ["-V"]).then(
  () => false,
  () => "/usr/bin/python3 is missing",
);

const python: PluginVersion = {
  pluginId: "p1",
  owner: "protocolbuffers",
  name: "python",
  version: "v3.21.12",
  source: { kind: "protoc", generator: "python", version: "3.21.12" },
  runtimeLibraries: { python: [{ package: "protobuf", version: ">=3.20" }] },
  registryOptions: {},
  createdAt: "2024-01-01T00:00:00Z",
};
const pyi: PluginVersion = { ...python, name: "pyi", runtimeLibraries: {} };
const grpc: PluginVersion = {
  ...python,
  owner: "grpc",
  name: "python",
  runtimeLibraries: {
    python: [
      { package: "grpcio", version: ">=1.51, <2" },
      { package: "protobuf", version: ">=3.20" },
    ],
  },
};
const template = fixtureTemplate("python");
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
    plugins: [python, pyi],
    scope: "module",
    goHost: "protodepot.local",
    npmScope: "protodepot",
    ...over,
  };
}

const file = (path: string, content: string) => ({ path, content: new TextEncoder().encode(content) });
const files = [
  file("demo/payments/v1/payments_pb2.pyi", "class Payment: ...\n"),
  file("demo/payments/v1/payments_pb2.py", "# generated\n"),
  file('demo/payments/v1/b,odd"name.py', "x = 1\n"),
];

describe("wheel METADATA", () => {
  it("requires each plugin's runtime once, then each dependency module's project pinned exactly", () => {
    assert.deepEqual(pypiRequiresDist(context({ plugins: [python, pyi, grpc] })), [
      "protobuf>=3.20",
      "grpcio>=1.51, <2",
      "protodepot-python-acme-common-types==1.2.1",
      "protodepot-python-demo-money==1.2.3",
    ]);
  });

  it("with a base template, requires the base's project of the same commit, pinned at the base's version", async () => {
    const ctx = context({
      plugins: [python, pyi, grpc],
      pypiBase: {
        template: { owner: "protodepot", name: "python" },
        templateVersion: 4,
        plugins: [
          { owner: "protocolbuffers", name: "python" },
          { owner: "protocolbuffers", name: "pyi" },
        ],
      },
    });
    assert.ok(pypiRequiresDist(ctx).includes("protodepot-python-demo-payments==1.4.7"));
    const packaged = await pypiPackager.package(files, ctx);
    const pins = JSON.parse(packaged.extra?.pins ?? "[]") as { template: string; version: string }[];
    assert.deepEqual(pins[0], { template: "protodepot/python", module: "demo/payments", version: "1.4.7" });
  });

  it("is core metadata 2.1 with name, version, summary and Requires-Python", () => {
    assert.equal(
      renderMetadata(context()),
      [
        "Metadata-Version: 2.1",
        "Name: protodepot-python-demo-payments",
        "Version: 1.2.7",
        `Summary: Generated code of module demo/payments (commit ${"c".repeat(32)}) by template protodepot/python v2`,
        "Requires-Python: >=3.7",
        "Requires-Dist: protobuf>=3.20",
        "Requires-Dist: protodepot-python-acme-common-types==1.2.1",
        "Requires-Dist: protodepot-python-demo-money==1.2.3",
        "",
      ].join("\n"),
    );
  });
});

describe("wheel bytes", () => {
  // Pinned: a change here changes every wheel's sha256, which pip users have in their hash-pinned requirements.
  const pinnedSha256 = "65c45cd8536e876bff9176ee13a958015cefc2d6c6dd996c10e5ab3ea6c5db4c";

  it("gives the same bytes whatever the input order, and they are pinned", async () => {
    const one = await pypiPackager.package(files, context());
    const two = await pypiPackager.package([...files].reverse(), context());
    assert.deepEqual(one.bytes, two.bytes);
    assert.equal(one.extra.sha256, createHash("sha256").update(one.bytes).digest("hex"));
    assert.equal(one.extra.sha256, pinnedSha256);
    assert.equal(one.extra.metadata, renderMetadata(context()));
    assert.equal(
      one.extra.metadataSha256,
      createHash("sha256").update(renderMetadata(context())).digest("hex"),
    );
    assert.deepEqual(JSON.parse(one.extra.pins ?? ""), [
      { template: "protodepot/python", module: "demo/money", version: "1.2.3" },
      { template: "protodepot/python", module: "acme/common-types", version: "1.2.1" },
    ]);
  });

  it("refuses files pip would misread: line breaks in a path, a .dist-info directory, a drive letter", async () => {
    for (const path of ["a\nb.py", "x-1.dist-info/METADATA", "a:b.txt"]) {
      await assert.rejects(createWheel([file(path, "")], context()), (err: unknown) => {
        assert.ok(isRegistryError(err, Code.Unprocessable), String(err));
        assert.match(err.message, /cannot be in a wheel/);
        return true;
      });
    }
  });

  it("Python's zipfile reads it: RECORD lists every file with its urlsafe sha256 and size, itself last", {
    skip: !process.env.CI && noPython,
  }, async () => {
    const { bytes } = await createWheel(files, context());
    const dir = await mkdtemp(join(tmpdir(), "protodepot-wheel-"));
    try {
      await writeFile(join(dir, "w.whl"), bytes);
      // Checks RECORD the way an installer does, with Python's own zip and csv readers.
      const script = [
        "import base64, csv, hashlib, io, sys, zipfile",
        "z = zipfile.ZipFile(sys.argv[1])",
        "names = z.namelist()",
        "record = [n for n in names if n.endswith('.dist-info/RECORD')][0]",
        "rows = list(csv.reader(io.StringIO(z.read(record).decode())))",
        "assert rows[-1] == [record, '', ''], rows[-1]",
        "for path, h, size in rows[:-1]:",
        "    data = z.read(path)",
        "    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()",
        "    assert h == 'sha256=' + digest and int(size) == len(data), path",
        "assert sorted(r[0] for r in rows) == sorted(names)",
        "print('\\n'.join(names))",
        "print({i.date_time for i in z.infolist()}, {i.external_attr >> 16 for i in z.infolist()})",
      ].join("\n");
      const { stdout } = await exec("/usr/bin/python3", ["-c", script, join(dir, "w.whl")]);
      assert.equal(
        stdout.trim(),
        [
          'demo/payments/v1/b,odd"name.py',
          "demo/payments/v1/payments_pb2.py",
          "demo/payments/v1/payments_pb2.pyi",
          "protodepot_python_demo_payments-1.2.7.dist-info/METADATA",
          "protodepot_python_demo_payments-1.2.7.dist-info/WHEEL",
          "protodepot_python_demo_payments-1.2.7.dist-info/RECORD",
          "{(2000, 1, 1, 0, 0, 0)} {33188}",
        ].join("\n"),
      );
      assert.equal(recordHash(new Uint8Array()), "sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
