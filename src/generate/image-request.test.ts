// The request built from an image buf sends (remote plugins) equals what buf gives the same plugin locally.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { CodeGeneratorRequestSchema, FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { Scope } from "../core/types.js";
import { ImageSchema } from "../gen/buf/alpha/image/v1/image_pb.js";
import { checkImage, createImageRequestBuilder, fromBufImage, type ImageFile } from "./image-request.js";
import { bufGenerate, bufPath, buildExamples, fixturePlugins, type Workspace } from "./testing/examples.js";

const exec = promisify(execFile);
const normalize = (bytes: Uint8Array) =>
  toBinary(CodeGeneratorRequestSchema, fromBinary(CodeGeneratorRequestSchema, bytes));

/** `buf build` in buf's own image format: each file a FileDescriptorProto plus buf's is_import mark. */
async function bufImage(ws: Workspace): Promise<ImageFile[]> {
  const { stdout } = await exec(bufPath, ["build", ws.target, "-o", "-#format=binpb"], {
    cwd: ws.dir,
    env: { ...process.env, BUF_CACHE_DIR: join(ws.dir, ".cache") },
    encoding: "buffer",
    maxBuffer: 64 << 20,
  });
  return fromBufImage(fromBinary(ImageSchema, new Uint8Array(stdout)));
}

const flags: Record<Scope, { includeImports: boolean; includeWellKnownTypes: boolean }> = {
  module: { includeImports: false, includeWellKnownTypes: false },
  imports: { includeImports: true, includeWellKnownTypes: false },
  imports_wkt: { includeImports: true, includeWellKnownTypes: true },
};

describe("createImageRequestBuilder over the demo modules", () => {
  let ws: Workspace;
  let image: ImageFile[];
  before(async () => {
    ws = await buildExamples();
    image = await bufImage(ws);
  });
  after(() => ws.cleanup());

  test("buf marks the dependency and the well-known type as imports; its own field is not passed on", () => {
    const protos = image.map((f) => fromBinary(FileDescriptorProtoSchema, f.bytes));
    for (const p of protos) assert.deepEqual(p.$unknown ?? [], [], p.name);
    assert.deepEqual(
      image.map((f, i) => [protos[i]?.name, f.isImport]),
      [
        ["demo/money/v1/money.proto", true],
        ["google/protobuf/timestamp.proto", true],
        ["demo/payments/v1/payments.proto", false],
      ],
    );
  });

  for (const scope of ["module", "imports", "imports_wkt"] as const) {
    test(`the request equals what buf generate sends a local plugin (${scope})`, async () => {
      const ours = createImageRequestBuilder(image).build({ parameter: "", ...flags[scope] });
      const files = await bufGenerate(
        ws,
        { path: join(fixturePlugins, "dump-request.mjs"), opt: [], strategy: "all" },
        scope,
      );
      const b64 = files.get("request.b64");
      assert.ok(b64);
      const theirs = new Uint8Array(Buffer.from(new TextDecoder().decode(b64), "base64"));
      assert.deepEqual(normalize(ours.request), normalize(theirs));
      assert.deepEqual(
        ours.filesToGenerate.map((f) => f.name),
        fromBinary(CodeGeneratorRequestSchema, theirs).fileToGenerate,
      );
    });
  }

  test("options become the parameter, as buf joins a local plugin's opt", async () => {
    const { request } = createImageRequestBuilder(image).build({ parameter: "a=1,b", ...flags.module });
    const theirs = await bufGenerate(
      ws,
      { path: join(fixturePlugins, "dump-request.mjs"), opt: ["a=1", "b"], strategy: "all" },
      "module",
    ).then((files) => Buffer.from(new TextDecoder().decode(files.get("request.b64")), "base64"));
    assert.equal(fromBinary(CodeGeneratorRequestSchema, request).parameter, "a=1,b");
    assert.deepEqual(normalize(request), normalize(new Uint8Array(theirs)));
  });
});

test("checkImage refuses an image buf would never send", () => {
  const file = (name: string, dependency: string[] = []) => ({ name, dependency });
  assert.doesNotThrow(() => checkImage([file("a.proto"), file("b.proto", ["a.proto"])]));
  assert.throws(
    () => checkImage([file("b.proto", ["a.proto"]), file("a.proto")]),
    /not in dependency order: b.proto imports a.proto/,
  );
  assert.throws(() => checkImage([file("b.proto", ["missing.proto"])]), /imports missing.proto/);
  assert.throws(() => checkImage([file("a.proto"), file("a.proto")]), /a.proto twice/);
  assert.throws(() => checkImage([file("")]), /without a name/);
});
