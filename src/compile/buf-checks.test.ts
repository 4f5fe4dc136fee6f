// The schema checks run the real buf over images the real compiler built.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createBufChecker } from "./buf-checks.js";
import { createBufCompiler } from "./buf-compiler.js";

const enc = new TextEncoder();
const compiler = createBufCompiler();
const checker = createBufChecker();

async function image(proto: string): Promise<Uint8Array> {
  const { image } = await compiler.compile({
    module: { files: [{ path: "x/v1/m.proto", content: enc.encode(proto) }] },
    deps: [],
  });
  return image;
}

const before = 'syntax = "proto3";\npackage x.v1;\nmessage M {\n  string a = 1;\n  int32 b = 2;\n}\n';
const renamed = 'syntax = "proto3";\npackage x.v1;\nmessage M {\n  string a = 1;\n  int32 c = 2;\n}\n';
const retyped = 'syntax = "proto3";\npackage x.v1;\nmessage M {\n  string a = 1;\n  string b = 2;\n}\n';
const paths = ["x/v1/m.proto"];

describe("buf checks on stored images", () => {
  it("finds breaking changes by category: a rename breaks JSON, not the wire", async () => {
    const against = await image(before);
    const json = await checker.breaking({
      image: await image(renamed),
      against,
      category: "WIRE_JSON",
      paths,
    });
    assert.ok(
      json.some((l) => /^x\/v1\/m\.proto:5:\d+: Field "2" .*"b" to "c"\. \(FIELD_SAME_JSON_NAME\)$/.test(l)),
      json.join("\n"),
    );
    assert.deepEqual(
      await checker.breaking({ image: await image(renamed), against, category: "WIRE", paths }),
      [],
    );
    const wire = await checker.breaking({ image: await image(retyped), against, category: "WIRE", paths });
    assert.match(
      wire.join("\n"),
      /^x\/v1\/m\.proto:5:\d+: Field "2" with name "b" on message "M" changed type/,
    );
  });

  it("lints by category with file:line:col and the rule", async () => {
    const lower = await image(`${before}message lower_case {}\n`);
    const found = await checker.lint({ image: lower, categories: ["STANDARD"], paths });
    assert.ok(
      found.some((l) =>
        /^x\/v1\/m\.proto:7:9: Message name "lower_case" should be PascalCase.*\(MESSAGE_PASCAL_CASE\)$/.test(
          l,
        ),
      ),
      found.join("\n"),
    );
    assert.deepEqual(await checker.lint({ image: lower, categories: ["MINIMAL"], paths }), []);
  });
});
