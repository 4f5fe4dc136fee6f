// The planned merge (createOutputTree) against protoc's rule applied one insertion at a time, on small outputs
// made of the pieces that matter: markers, inline comments, indentation, newlines, multi-byte text, BOMs.
import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import fc from "fast-check";
import { Code, isRegistryError } from "../core/errors.js";
import {
  type PluginResponse_File,
  PluginResponse_FileSchema,
} from "../gen/protodepot/plugin/v1/response_pb.js";
import { createOutputTree, type OutputLimits } from "./output.js";
import { applyInsertion } from "./testing/protoc-insertion.js";

const runs = { seed: 20, numRuns: Number(process.env.FUZZ_RUNS ?? 500) };
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The merge as it was before it was planned: protoc's rule over decoded text, one insertion at a time. */
function reference(limits: OutputLimits, plugins: readonly (readonly PluginResponse_File[])[]) {
  const files = new Map<string, { plugin: string; content: Uint8Array | string }>();
  const text = (c: Uint8Array | string) => (typeof c === "string" ? c : decoder.decode(c));
  for (const [i, chunks] of plugins.entries()) {
    const plugin = `p${i}`;
    const joined: { name: string; point: string; content: Uint8Array }[] = [];
    for (const c of chunks) {
      const last = joined.at(-1);
      if (c.name === "" && last) last.content = Buffer.concat([last.content, c.content]);
      else joined.push({ name: c.name, point: c.insertionPoint, content: c.content });
    }
    for (const c of joined) {
      if (c.point === "") {
        if (files.has(c.name)) return "twice";
        files.set(c.name, { plugin, content: c.content });
        continue;
      }
      const target = files.get(c.name);
      if (!target) return "missing";
      const next = applyInsertion(text(target.content), c.point, text(c.content));
      if (next === undefined) return "not found";
      target.content = next;
    }
    let total = 0;
    for (const f of files.values())
      total += typeof f.content === "string" ? Buffer.byteLength(f.content) : f.content.byteLength;
    if (total > limits.maxOutputBytes) return "too big";
  }
  return [...files.keys()].sort().map((path) => {
    const c = files.get(path)?.content ?? "";
    return { path, content: Buffer.from(typeof c === "string" ? encoder.encode(c) : c) };
  });
}

function planned(limits: OutputLimits, plugins: readonly (readonly PluginResponse_File[])[]) {
  const tree = createOutputTree(limits);
  try {
    for (const [i, chunks] of plugins.entries()) tree.add(`p${i}`, chunks);
  } catch (err) {
    assert.ok(isRegistryError(err, Code.Unprocessable), String(err));
    if (/twice|also generated/.test(err.message)) return "twice";
    if (/tried to insert into/.test(err.message)) return "missing";
    if (/not found in/.test(err.message)) return "not found";
    if (/plugins.maxOutputBytes/.test(err.message)) return "too big";
    throw err;
  }
  return tree.files().map((f) => ({ path: f.path, content: Buffer.from(f.content) }));
}

const tokens = [
  "a",
  "b c",
  " ",
  "\t",
  "\n",
  "\n",
  "/*",
  "*/",
  "/* ",
  "@@protoc_insertion_point(x)",
  "@@protoc_insertion_point(y)",
  "/* @@protoc_insertion_point(x) */",
  "  // @@protoc_insertion_point(y)\n",
  "@@protoc_insertion_point(",
  "@@protoc_insertion_point(",
  "@@protoc_ins",
  "ertion_point(x)",
  ")",
  "é",
  "中",
  "😀",
  "\uFEFF",
];
const plain = ["a", "b c", " ", "\t", "\n", "\n", "/*", "*/", ")", "y)", "é", "中", "😀"];
const textOf = (from: string[], maxLength: number) =>
  fc.array(fc.constantFrom(...from), { maxLength }).map((t) => t.join(""));
const withBadBytes = (t: fc.Arbitrary<string>) =>
  fc.oneof(
    { weight: 8, arbitrary: t.map((s) => encoder.encode(s)) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(t, fc.constantFrom(0xff, 0xc3, 0x80), t)
        .map(([a, b, c]) => Buffer.concat([encoder.encode(a), Buffer.of(b), encoder.encode(c)])),
    },
  );
// Targets full of markers; inserted text mostly plain, now and then with a marker or part of one.
const markers = [
  "@@protoc_insertion_point(x)",
  "@@protoc_insertion_point(y)",
  "/* @@protoc_insertion_point(x) */",
  "\t// @@protoc_insertion_point(y)\n",
];
const bytes = withBadBytes(
  fc
    .array(fc.tuple(textOf(tokens, 5), fc.constantFrom(...markers)), { minLength: 1, maxLength: 3 })
    .chain((parts) => textOf(tokens, 5).map((end) => parts.flat().join("") + end)),
);
const inserted = fc.oneof(
  { weight: 6, arbitrary: withBadBytes(textOf(plain, 6)) },
  { weight: 1, arbitrary: withBadBytes(textOf(tokens, 6)) },
);
const point = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom("x", "y") },
  { weight: 1, arbitrary: fc.constantFrom("z", "x)", "a\nb", "@@protoc_insertion_point(x") },
);
const name = fc.constantFrom("a.txt", "b.txt");
const chunk = (name: string, content: Uint8Array, insertionPoint = "") =>
  create(PluginResponse_FileSchema, { name, content, insertionPoint });
const opener = fc.tuple(name, bytes).map(([n, c]) => chunk(n, c));
const inserter = fc
  .tuple(name, point, inserted, fc.option(inserted, { nil: undefined, freq: 4 }))
  .map(([n, p, c, more]) => (more ? [chunk(n, c, p), chunk("", more)] : [chunk(n, c, p)]));
const plugins = fc.tuple(
  fc.array(opener, { minLength: 1, maxLength: 2 }),
  fc.array(
    fc.array(inserter, { maxLength: 6 }).map((c) => c.flat()),
    { minLength: 1, maxLength: 4 },
  ),
);

test("the planned merge gives protoc's bytes and protoc's errors, insertion after insertion", () => {
  const limits = { maxFiles: 10, maxOutputBytes: 10_000 };
  fc.assert(
    fc.property(plugins, ([first, rest]) => {
      const all = [first, ...rest];
      assert.deepEqual(planned(limits, all), reference(limits, all));
    }),
    runs,
  );
});

test("the planned merge counts each file's final length, indentation included, before building it", () => {
  fc.assert(
    fc.property(plugins, fc.integer({ min: 0, max: 400 }), ([first, rest], max) => {
      const all = [first, ...rest];
      const limits = { maxFiles: 10, maxOutputBytes: max };
      const ours = planned(limits, all);
      const theirs = reference({ maxFiles: 10, maxOutputBytes: Number.MAX_SAFE_INTEGER }, all);
      // Refused exactly when the whole output would pass the cap (the reference checked only after each plugin,
      // so it may have failed on a missing point first).
      if (typeof theirs === "string") return;
      const size = theirs.reduce((n, f) => n + f.content.byteLength, 0);
      if (size > max) assert.equal(ours, "too big");
      else assert.deepEqual(ours, theirs);
    }),
    runs,
  );
});

test("the planned merge on the cases where inserted text changes what protoc finds next", () => {
  const limits = { maxFiles: 10, maxOutputBytes: 10_000 };
  const cases: [target: string, ...insertions: [point: string, text: string][]][] = [
    // Inserted text completes a marker begun before an inline comment: the next insertion finds the new one.
    [
      "@@protoc_insertion_point(/* @@protoc_insertion_point(x) */ @@protoc_insertion_point(y)\n",
      ["x", "y)"],
      ["y", "1"],
    ],
    [
      "@@protoc_ins/* @@protoc_insertion_point(x) */ @@protoc_insertion_point(y)\n",
      ["x", "ertion_point(y)"],
      ["y", "1"],
    ],
    // A piece at the start of the file makes an inline comment there count as inline.
    ["/* @@protoc_insertion_point(x) */ @@protoc_insertion_point(y)\n", ["y", "a"], ["x", "b"]],
    ["/*\t@@protoc_insertion_point(x) */@@protoc_insertion_point(y)", ["y", "a"], ["x", "b"], ["y", "c"]],
    // Pieces right before a marker at the start of its line.
    ["@@protoc_insertion_point(x)\n", ["x", "a"], ["x", "b"]],
    // Inserted text with a marker of its own, found by the next insertion.
    [
      "  // @@protoc_insertion_point(x)\n  // @@protoc_insertion_point(y)\n",
      ["x", "// @@protoc_insertion_point(y)"],
      ["y", "q"],
    ],
    // Names the index does not plan: with ")" or a newline.
    ["// @@protoc_insertion_point(x))\n", ["x)", "a"], ["x", "b"]],
    ["// @@protoc_insertion_point(a\nb)\n", ["a\nb", "a"]],
    // The unit before the marker: an astral character is two UTF-16 units, so "/*" is not right before it.
    ["a/*😀@@protoc_insertion_point(x)", ["x", "1"]],
    ["a/*é@@protoc_insertion_point(x)", ["x", "1"]],
    // Indentation of every inserted line, also after an inline insertion on the same line.
    [
      "\t\tf(/* @@protoc_insertion_point(x) */) // @@protoc_insertion_point(y)\n",
      ["x", "1\n2"],
      ["y", "3\n\n4"],
    ],
  ];
  for (const [target, ...insertions] of cases) {
    const all = [
      [chunk("a.txt", encoder.encode(target))],
      insertions.map(([p, t]) => chunk("a.txt", encoder.encode(t), p)),
    ];
    const ours = planned(limits, all);
    assert.deepEqual(ours, reference(limits, all), JSON.stringify(target));
    assert.notEqual(typeof ours, "string", JSON.stringify(target));
  }
});
