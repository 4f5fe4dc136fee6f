import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  DescriptorProtoSchema,
  FieldDescriptorProtoSchema,
  FileDescriptorProtoSchema,
  FileDescriptorSetSchema,
} from "@bufbuild/protobuf/wkt";
import { buildExamples, type Workspace } from "../generate/testing/examples.js";
import { scanImage, withoutSourceInfo } from "./image-files.js";

describe("scanImage over an image buf built", () => {
  let ws: Workspace;
  before(async () => {
    ws = await buildExamples();
  });
  after(() => ws.cleanup());

  test("finds every file with its name, imports and syntax, and bytes that decode to the same file", () => {
    const decoded = fromBinary(FileDescriptorSetSchema, ws.image).file;
    const scanned = scanImage(ws.image);
    assert.deepEqual(
      scanned.map((f) => [f.name, f.dependency, f.syntax, f.edition]),
      decoded.map((f) => [f.name, f.dependency, f.syntax, f.edition]),
    );
    for (const [i, f] of scanned.entries()) {
      assert.deepEqual(fromBinary(FileDescriptorProtoSchema, f.bytes), decoded[i]);
      assert.equal(f.declaresExtensions, false);
    }
  });

  test("withoutSourceInfo drops source_code_info and keeps every other field", () => {
    for (const [i, f] of scanImage(ws.image).entries()) {
      const original = fromBinary(FileDescriptorSetSchema, ws.image).file[i];
      assert.ok(original?.sourceCodeInfo, `${f.name} has source info in the image`);
      const stripped = fromBinary(FileDescriptorProtoSchema, withoutSourceInfo(f.bytes));
      assert.equal(stripped.sourceCodeInfo, undefined);
      original.sourceCodeInfo = undefined;
      assert.deepEqual(
        toBinary(FileDescriptorProtoSchema, stripped),
        toBinary(FileDescriptorProtoSchema, original),
      );
    }
  });
});

test("scanImage sees extensions declared at top level and nested in messages", () => {
  const ext = create(FieldDescriptorProtoSchema, {
    name: "x",
    number: 50000,
    extendee: ".google.protobuf.FileOptions",
  });
  const top = create(FileDescriptorProtoSchema, { name: "top.proto", extension: [ext] });
  const nested = create(FileDescriptorProtoSchema, {
    name: "nested.proto",
    messageType: [
      create(DescriptorProtoSchema, {
        name: "A",
        nestedType: [create(DescriptorProtoSchema, { name: "B", extension: [ext] })],
      }),
    ],
  });
  const plain = create(FileDescriptorProtoSchema, {
    name: "plain.proto",
    messageType: [create(DescriptorProtoSchema, { name: "C" })],
  });
  const image = toBinary(
    FileDescriptorSetSchema,
    create(FileDescriptorSetSchema, { file: [top, nested, plain] }),
  );
  assert.deepEqual(
    scanImage(image).map((f) => [f.name, f.declaresExtensions]),
    [
      ["top.proto", true],
      ["nested.proto", true],
      ["plain.proto", false],
    ],
  );
});

test("scanImage refuses bytes that are not a FileDescriptorSet", () => {
  assert.throws(() => scanImage(new Uint8Array([0x0a, 0xff, 0xff, 0x03])));
});
