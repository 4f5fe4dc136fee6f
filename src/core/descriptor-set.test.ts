import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { create, fromBinary, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { encodeDescriptorSet, filesDeclaring, maxSymbols, selectFiles } from "./descriptor-set.js";
import { Code, isRegistryError } from "./errors.js";
import { scanImage } from "./image-files.js";

/** An image in dependency order: wkt ← base ← app, and other beside them. */
function image(): Uint8Array {
  const file = (init: MessageInitShape<typeof FileDescriptorProtoSchema>) =>
    create(FileDescriptorProtoSchema, { syntax: "proto3", ...init });
  return toBinary(
    FileDescriptorSetSchema,
    create(FileDescriptorSetSchema, {
      file: [
        file({
          name: "google/protobuf/timestamp.proto",
          package: "google.protobuf",
          messageType: [{ name: "Timestamp" }],
        }),
        file({
          name: "base/v1/money.proto",
          package: "base.v1",
          dependency: ["google/protobuf/timestamp.proto"],
          messageType: [{ name: "Money", nestedType: [{ name: "Part" }] }],
          enumType: [{ name: "Currency" }],
          sourceCodeInfo: { location: [{ path: [4, 0], span: [0, 0, 5], leadingComments: " Money.\n" }] },
        }),
        file({
          name: "app/v1/order.proto",
          package: "app.v1",
          dependency: ["base/v1/money.proto"],
          messageType: [{ name: "Order" }],
          service: [{ name: "OrderService", method: [{ name: "Get" }] }],
        }),
        file({ name: "app/v1/extra.proto", package: "app.v1", messageType: [{ name: "Extra" }] }),
        file({ name: "other.proto", messageType: [{ name: "Loose" }] }),
      ],
    }),
  );
}

const names = (files: { name: string }[]) => files.map((f) => f.name);

function refusal(fn: () => unknown, code: Code, message: RegExp): void {
  assert.throws(fn, (err: unknown) => isRegistryError(err, code) && message.test(err.message));
}

describe("selectFiles", () => {
  const files = scanImage(image());

  test("with imports: the roots and everything they import, transitively, in the image's order", () => {
    assert.deepEqual(names(selectFiles(files, ["app/v1/order.proto"], true)), [
      "google/protobuf/timestamp.proto",
      "base/v1/money.proto",
      "app/v1/order.proto",
    ]);
  });

  test("without imports: only the roots, in the image's order whatever the roots' order", () => {
    assert.deepEqual(names(selectFiles(files, ["app/v1/extra.proto", "base/v1/money.proto"], false)), [
      "base/v1/money.proto",
      "app/v1/extra.proto",
    ]);
  });
});

describe("filesDeclaring", () => {
  const files = scanImage(image());

  test("a package names each of its files; a type, nested type, enum, service or method names its file", () => {
    assert.deepEqual(filesDeclaring(files, ["app.v1"]).sort(), ["app/v1/extra.proto", "app/v1/order.proto"]);
    assert.deepEqual(filesDeclaring(files, ["base.v1.Money.Part"]), ["base/v1/money.proto"]);
    assert.deepEqual(filesDeclaring(files, ["base.v1.Currency"]), ["base/v1/money.proto"]);
    assert.deepEqual(filesDeclaring(files, ["app.v1.OrderService.Get"]), ["app/v1/order.proto"]);
    assert.deepEqual(filesDeclaring(files, ["Loose", "app.v1.Order"]), ["other.proto", "app/v1/order.proto"]);
  });

  test("a name is matched by its parts, not as a text prefix", () => {
    refusal(
      () => filesDeclaring(files, ["app.v1.Ord"]),
      Code.FailedPrecondition,
      /declares the symbol app\.v1\.Ord$/,
    );
    refusal(() => filesDeclaring(files, ["app.v"]), Code.FailedPrecondition, /app\.v/);
  });

  test("refuses malformed names and too many of them", () => {
    for (const bad of [".app.v1.Order", "app..v1", "app v1", "", "1abc"]) {
      refusal(
        () => filesDeclaring(files, [bad]),
        Code.InvalidArgument,
        /not a fully-qualified Protobuf name/,
      );
    }
    refusal(
      () =>
        filesDeclaring(
          files,
          Array.from({ length: maxSymbols + 1 }, () => "app.v1"),
        ),
      Code.InvalidArgument,
      new RegExp(`at most ${maxSymbols}`),
    );
  });
});

describe("encodeDescriptorSet", () => {
  const files = scanImage(image());

  test("re-encodes the chosen files as a set, with or without their source info", () => {
    const chosen = selectFiles(files, ["base/v1/money.proto"], false);
    const withInfo = fromBinary(FileDescriptorSetSchema, encodeDescriptorSet(chosen, true));
    assert.deepEqual(names(withInfo.file), ["base/v1/money.proto"]);
    assert.equal(withInfo.file[0]?.sourceCodeInfo?.location[0]?.leadingComments, " Money.\n");
    const without = fromBinary(FileDescriptorSetSchema, encodeDescriptorSet(chosen, false));
    assert.equal(without.file[0]?.sourceCodeInfo, undefined);
    assert.equal(without.file[0]?.messageType[0]?.nestedType[0]?.name, "Part");
  });

  test("no files: an empty set", () => {
    assert.equal(encodeDescriptorSet([], false).byteLength, 0);
  });
});
