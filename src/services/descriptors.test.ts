import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { Code, isRegistryError, RegistryError } from "../core/errors.js";
import type { Commit } from "../core/types.js";
import { anonymous } from "./auth.js";
import { createDescriptorService } from "./descriptors.js";
import type { ModuleService } from "./modules.js";

const commit: Commit = {
  id: "c".repeat(32),
  moduleId: "m1",
  owner: "acme",
  module: "app",
  seq: 1,
  digest: "sha256:00",
  sourcesBlob: "s",
  imageBlob: "i",
  createdBy: "u1",
  createdAt: "2026-01-01T00:00:00.000Z",
};

const image = toBinary(
  FileDescriptorSetSchema,
  create(FileDescriptorSetSchema, {
    file: [
      { name: "base/v1/money.proto", package: "base.v1", messageType: [{ name: "Money" }] },
      {
        name: "app/v1/order.proto",
        package: "app.v1",
        dependency: ["base/v1/money.proto"],
        messageType: [{ name: "Order" }],
      },
    ],
  }),
);

/** The module reads the service uses, recording which checks ran; `hiddenDep` makes the dependency unreadable. */
function fakeModules(opts: { hiddenDep?: boolean } = {}) {
  const calls: string[] = [];
  const modules: Pick<ModuleService, "resolveRef" | "readableDeps" | "readImage" | "listCommitFiles"> = {
    async resolveRef(_p, name, ref) {
      calls.push(`resolve ${name.owner}/${name.name}@${ref}`);
      if (name.name !== "app")
        throw new RegistryError(Code.NotFound, `module ${name.owner}/${name.name} does not exist`);
      return commit;
    },
    async readableDeps() {
      calls.push("deps");
      if (opts.hiddenDep) throw new RegistryError(Code.NotFound, "module acme/base does not exist");
      return [];
    },
    readImage: async () => image,
    listCommitFiles: async () => [
      { path: "README.md", size: 1, sha256: "" },
      { path: "app/v1/order.proto", size: 1, sha256: "" },
    ],
  };
  return { modules, calls };
}

const files = (bytes: Uint8Array) => fromBinary(FileDescriptorSetSchema, bytes).file.map((f) => f.name);
const name = { owner: "acme", name: "app" };

describe("descriptor service", () => {
  test("the module's .proto files, with their imports only after the caller may read the dependencies", async () => {
    const { modules, calls } = fakeModules();
    const service = createDescriptorService(modules);
    const full = await service.descriptorSet(anonymous, name, {
      ref: "main",
      imports: true,
      sourceInfo: false,
    });
    assert.equal(full.commit, commit);
    assert.deepEqual(files(full.bytes), ["base/v1/money.proto", "app/v1/order.proto"]);
    assert.deepEqual(calls, ["resolve acme/app@main", "deps"]);

    calls.length = 0;
    const own = await service.descriptorSet(anonymous, name, { ref: "", imports: false, sourceInfo: false });
    assert.deepEqual(files(own.bytes), ["app/v1/order.proto"]);
    assert.deepEqual(calls, ["resolve acme/app@"]);
  });

  test("a dependency the caller may not read fails the request with imports, not without", async () => {
    const service = createDescriptorService(fakeModules({ hiddenDep: true }).modules);
    await assert.rejects(
      service.descriptorSet(anonymous, name, { ref: "main", imports: true, sourceInfo: false }),
      (err: unknown) => isRegistryError(err, Code.NotFound) && /acme\/base/.test(err.message),
    );
    const own = await service.descriptorSet(anonymous, name, {
      ref: "main",
      imports: false,
      sourceInfo: false,
    });
    assert.deepEqual(files(own.bytes), ["app/v1/order.proto"]);
  });

  test("symbols choose the files declaring them, dependency files included", async () => {
    const service = createDescriptorService(fakeModules().modules);
    const money = await service.descriptorSet(anonymous, name, {
      ref: "main",
      imports: true,
      sourceInfo: false,
      symbols: ["base.v1.Money"],
    });
    assert.deepEqual(files(money.bytes), ["base/v1/money.proto"]);
  });

  test("a module the caller may not see fails as missing, before its image is read", async () => {
    const { modules } = fakeModules();
    const service = createDescriptorService({
      ...modules,
      readImage: async () => assert.fail("the image of a hidden module was read"),
    });
    await assert.rejects(
      service.descriptorSet(
        anonymous,
        { owner: "acme", name: "secret" },
        { ref: "", imports: true, sourceInfo: false },
      ),
      (err: unknown) => isRegistryError(err, Code.NotFound),
    );
  });
});
