import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, isRegistryError } from "../core/errors.js";
import { PluginResponse_FileSchema } from "../gen/protodepot/plugin/v1/response_pb.js";
import { mergeOutputs, type PluginOutput } from "./merge.js";

const mib = 2 ** 20;
const chunk = (name: string, content: string | Uint8Array, insertionPoint = "") =>
  create(PluginResponse_FileSchema, {
    name,
    content: typeof content === "string" ? Buffer.from(content) : content,
    insertionPoint,
  });
const limits = { maxFiles: 100, maxOutputBytes: 64 * mib, maxInsertions: 10_000 };

/** A base plugin writing a large file with an insertion point, and one inserting into it, grpc-style. */
function grpcStyle(): PluginOutput[] {
  const body = Buffer.from("x = 1\n".repeat(350_000));
  return [
    {
      plugin: "acme/base:v1",
      files: [
        chunk(
          "a_pb.py",
          Buffer.concat([body, Buffer.from("    # @@protoc_insertion_point(module_scope)\n")]),
        ),
        chunk("b_pb.py", "small\n"),
      ],
    },
    {
      plugin: "acme/grpc:v1",
      files: [chunk("a_pb.py", "def stub():\n  pass", "module_scope"), chunk("a_grpc.py", body)],
    },
  ];
}

test("mergeOutputs: the worker gives the bytes the event loop gives", async () => {
  const inline = await mergeOutputs(grpcStyle(), { limits, deadlineMs: 60_000, inlineBytes: 64 * mib });
  const worker = await mergeOutputs(grpcStyle(), { limits, deadlineMs: 60_000, inlineBytes: 0 });
  assert.deepEqual(
    worker.map((f) => f.path),
    ["a_grpc.py", "a_pb.py", "b_pb.py"],
  );
  assert.deepEqual(
    worker.map((f) => Buffer.from(f.content)),
    inline.map((f) => Buffer.from(f.content)),
  );
  assert.ok(Buffer.from(inline[1]?.content ?? []).includes("    def stub():\n      pass\n    # @@protoc"));
});

/** Insertions the index cannot plan (a `)` in the name): protoc's rule one at a time, each copying the file. */
function slowLoop(count: number): PluginOutput[] {
  const marker = "// @@protoc_insertion_point(x))\n";
  return [
    {
      plugin: "bob/base:v1",
      files: [chunk("big.txt", Buffer.concat([Buffer.alloc(4 * mib, "a\n"), Buffer.from(marker)]))],
    },
    { plugin: "bob/loop:v1", files: Array.from({ length: count }, () => chunk("big.txt", "1", "x)")) },
  ];
}

const refused = (message: RegExp) => (err: unknown) => {
  assert.ok(isRegistryError(err, Code.Unprocessable), String(err));
  assert.match(err.message, message);
  assert.equal(err.fields.plugin, "bob/loop:v1");
  return true;
};

test("mergeOutputs: a merge past its deadline is stopped with an error naming the plugin", async () => {
  await assert.rejects(
    mergeOutputs(slowLoop(10_000), { limits, deadlineMs: 300 }),
    refused(/^plugin bob\/loop:v1 output could not be merged within 300 ms \(plugins.timeoutMs\)$/),
  );
});

test("mergeOutputs: an inline merge that turns slow moves to the worker and still gives protoc's bytes", async () => {
  const files = await mergeOutputs(slowLoop(3), { limits, deadlineMs: 60_000, inlineBytes: 5 * mib });
  const content = Buffer.from(files[0]?.content ?? []);
  assert.equal(content.byteLength, 4 * mib + 6 + 32);
  assert.equal(content.subarray(4 * mib).toString(), "1\n1\n1\n// @@protoc_insertion_point(x))\n");
});

test("mergeOutputs: too many insertions are refused before any is applied", async () => {
  await assert.rejects(
    mergeOutputs(slowLoop(11), { limits: { ...limits, maxInsertions: 10 }, deadlineMs: 60_000 }),
    refused(/made more than 10 insertions into generated files \(plugins.maxInsertions\)/),
  );
});
