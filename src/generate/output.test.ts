import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, isRegistryError } from "../core/errors.js";
import { PluginResponse_FileSchema } from "../gen/protodepot/plugin/v1/response_pb.js";
import { createResponseChecker } from "./output.js";

const chunk = (name: string, content = "x", insertionPoint = "") =>
  create(PluginResponse_FileSchema, { name, content: new TextEncoder().encode(content), insertionPoint });

const refused = (message: RegExp) => (err: unknown) => {
  assert.ok(isRegistryError(err, Code.Unprocessable), String(err));
  assert.match(err.message, message);
  return true;
};

test("createResponseChecker: clean paths, one file per name per plugin, insertions into any file", () => {
  const checker = createResponseChecker({ maxFiles: 10, maxOutputBytes: 1000 });
  // Insertion points may target files of the caller's other plugins: the client applies them.
  checker.check("a/p:v1", [chunk("x/a.ts"), chunk(""), chunk("other/b.ts", "y", "imports")]);
  // Another plugin may write the same name: it has its own output directory on the client.
  checker.check("a/q:v1", [chunk("x/a.ts")]);
  for (const bad of ["../up.ts", "/abs.ts", "a/./b.ts", "a\\b.ts", "a\0b"]) {
    assert.throws(() => checker.check("a/p:v1", [chunk(bad)]), refused(/plugin a\/p:v1 generated file/));
  }
  assert.throws(
    () => checker.check("a/p:v1", [chunk("../x.ts", "y", "point")]),
    refused(/path contains "\.\."/),
  );
  assert.throws(
    () => checker.check("a/p:v1", [chunk("d.ts"), chunk("d.ts")]),
    refused(/generated d.ts twice/),
  );
  assert.throws(() => checker.check("a/p:v1", [chunk("")]), refused(/first file without a name/));
});

test("createResponseChecker: the files of every response of one call count together", () => {
  const count = createResponseChecker({ maxFiles: 3, maxOutputBytes: 1000 });
  count.check("a/p:v1", [chunk("1.ts"), chunk("2.ts")]);
  assert.throws(
    () => count.check("a/q:v1", [chunk("3.ts"), chunk("4.ts")]),
    refused(/plugin a\/q:v1 generated more than 3 files \(plugins.maxFiles\)/),
  );
  const size = createResponseChecker({ maxFiles: 10, maxOutputBytes: 10 });
  size.check("a/p:v1", [chunk("1.ts", "123456")]);
  assert.throws(
    () => size.check("a/q:v1", [chunk("2.ts", "123"), chunk("", "45")]),
    refused(/brought generated files to 11 bytes, over 10 \(plugins.maxOutputBytes\)/),
  );
});
