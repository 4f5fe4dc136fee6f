import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, equals, fromBinary, mergeFromBinary, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { PluginResponseSchema } from "../../gen/protodepot/plugin/v1/response_pb.js";
import { createFieldParts } from "./field-parts.js";

/** `bytes` cut into chunks at the given (sorted, deduplicated) offsets, as a pipe would deliver them. */
function chunked(bytes: Uint8Array, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const to of [...at, bytes.length]) {
    if (to > from) chunks.push(Buffer.from(bytes.subarray(from, to)));
    from = to;
  }
  return chunks;
}

function collect(chunks: Buffer[], partBytes: number, maxBytes = 1 << 20) {
  const parts = createFieldParts(partBytes, maxBytes);
  for (const c of chunks) parts.push(c);
  return parts.end();
}

const response = fc.record({
  error: fc.string(),
  supportedFeatures: fc.bigInt({ min: 0n, max: 3n }),
  file: fc.array(
    fc.record({
      name: fc.string(),
      insertionPoint: fc.string(),
      content: fc.uint8Array({ maxLength: 3000 }),
    }),
    { maxLength: 12 },
  ),
});

describe("stdout in field parts", () => {
  it("decodes, part by part, to the very message the whole stream encodes, however the pipe cut it", () => {
    fc.assert(
      fc.property(
        response,
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.integer({ min: 1, max: 5000 }),
        (init, cuts, partBytes) => {
          const bytes = toBinary(PluginResponseSchema, create(PluginResponseSchema, init));
          const parts = collect(chunked(bytes, cuts), partBytes);
          assert.deepEqual(Buffer.concat(parts), Buffer.from(bytes));
          const merged = create(PluginResponseSchema);
          for (const part of parts) mergeFromBinary(PluginResponseSchema, merged, part);
          assert.ok(equals(PluginResponseSchema, merged, fromBinary(PluginResponseSchema, bytes)));
        },
      ),
    );
  });

  it("cuts a large response into parts of whole files near the part size", () => {
    const file = Array.from({ length: 40 }, (_, i) => ({
      name: `gen/file_${i}.ts`,
      content: new Uint8Array(100_000).fill(i),
    }));
    const bytes = toBinary(PluginResponseSchema, create(PluginResponseSchema, { file }));
    const parts = collect(
      chunked(
        bytes,
        Array.from({ length: 70 }, (_, i) => i * 65_536),
      ),
      1 << 20,
    );
    assert.ok(parts.length >= 3 && parts.length <= 5, `${parts.length} parts`);
    for (const part of parts) {
      assert.ok(part.length <= (1 << 20) + 100_100, `part of ${part.length} bytes`);
      const alone = fromBinary(PluginResponseSchema, part);
      assert.ok(alone.file.length > 0 && alone.file.every((f) => f.content.length === 100_000));
    }
  });

  it("keeps any bytes at all, unparsed, when they are not protobuf", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 4000 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (bytes, cuts) => {
          assert.deepEqual(Buffer.concat(collect(chunked(bytes, cuts), 64)), Buffer.from(bytes));
        },
      ),
    );
  });

  it("never allocates for a length a stream only claims", () => {
    // Field 15, length-delimited, claiming 2^34 bytes: nothing is reserved for it, the few bytes sent are kept.
    const claim = Uint8Array.of(0x7a, 0x80, 0x80, 0x80, 0x80, 0x40, 1, 2, 3);
    const parts = collect([Buffer.from(claim)], 1);
    assert.deepEqual(Buffer.concat(parts), Buffer.from(claim));
  });
});
