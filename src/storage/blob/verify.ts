// Verify on read: a content blob (`sha256/…`, paths.ts) is named by the sha256 of its bytes, so every read of one is
// checked against its key while it streams. A mismatch never reaches a reader as a complete success: the last chunk
// is held back until the whole blob has been hashed, and a wrong digest destroys the stream with a BLOB_CORRUPT
// error instead of releasing it (a client sees a broken transfer, never the full body). A blob small enough to fit
// one chunk is therefore checked before its first byte leaves.
import { createHash } from "node:crypto";
import { pipeline, type Readable, Transform } from "node:stream";
import { Code, isRegistryError, RegistryError } from "../../core/errors.js";
import type { BlobRead, BlobStore, ReadOptions } from "./blob-store.js";
import { checkRange, clampRange } from "./keys.js";
import { contentPrefix } from "./paths.js";

/** `fields.reason` of the error a corrupt blob's stream fails with. */
export const corruptReason = "BLOB_CORRUPT";

export interface CorruptBlob {
  key: string;
  /** Hex sha256 the key names. */
  expected: string;
  /** Hex sha256 of the bytes read. */
  actual: string;
}

export interface VerifyOptions {
  /** Told of every mismatch once, as it is found (the server logs it and counts it in a metric). */
  onCorrupt?: (blob: CorruptBlob) => void;
}

/** Whether `reason` is the error of a blob whose bytes do not match the digest it is stored under. */
export function isCorruptBlobError(reason: unknown): reason is RegistryError {
  return isRegistryError(reason, Code.Internal) && reason.fields.reason === corruptReason;
}

/** The hex digest a key is stored under, or undefined when the key is not content-addressed. */
export function digestOfKey(key: string): string | undefined {
  if (!key.startsWith(contentPrefix)) return undefined;
  const hex = key.slice(key.lastIndexOf("/") + 1);
  return /^[0-9a-f]{64}$/.test(hex) ? hex : undefined;
}

export function corruptBlobError(blob: CorruptBlob): RegistryError {
  return new RegistryError(
    Code.Internal,
    `blob ${blob.key} is corrupt: its bytes hash to sha256:${blob.actual}, not the sha256:${blob.expected} it is stored under`,
    { reason: corruptReason },
  );
}

/**
 * Hashes every byte and passes on those in [start, end], always one chunk behind: the held chunk goes out only once
 * the digest matched, so a corrupt blob is never delivered whole.
 */
function verifier(
  key: string,
  expected: string,
  span: { start: number; end: number },
  onCorrupt: VerifyOptions["onCorrupt"],
): Transform {
  const hash = createHash("sha256");
  let offset = 0;
  let held: Buffer | undefined;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      const from = offset;
      offset += chunk.byteLength;
      const part =
        from >= span.start && offset - 1 <= span.end
          ? chunk
          : chunk.subarray(Math.max(0, span.start - from), Math.max(0, span.end + 1 - from));
      const out = held;
      held = part.byteLength > 0 ? part : held;
      if (part.byteLength > 0 && out) done(null, out);
      else done();
    },
    flush(done) {
      const actual = hash.digest("hex");
      if (actual !== expected) {
        const blob = { key, expected, actual };
        onCorrupt?.(blob);
        done(corruptBlobError(blob));
        return;
      }
      done(null, held);
    },
  });
}

/** A BlobStore whose reads of content keys are checked against the digest in the key; other keys pass through. */
export function withVerification(inner: BlobStore, opts: VerifyOptions = {}): BlobStore {
  const read = async (key: string, o?: ReadOptions): Promise<BlobRead | undefined> => {
    const expected = digestOfKey(key);
    if (expected === undefined) return inner.read(key, o);
    if (o?.range) checkRange(o.range);
    // A range is checked like the whole blob (a resumed download is rare; a corrupt part of one is not a success).
    const opened = await inner.read(key, o?.signal ? { signal: o.signal } : {});
    if (!opened) return undefined;
    let span: { start: number; end: number };
    try {
      span = clampRange(o?.range, opened.size);
    } catch (err) {
      opened.stream.destroy();
      throw err;
    }
    const checked = verifier(key, expected, span, opts.onCorrupt);
    // Either side failing ends both: a reader that goes away stops the read, a failed read fails the reader.
    pipeline(opened.stream, checked, () => {});
    return { stream: checked, size: opened.size, length: Math.max(0, span.end - span.start + 1) };
  };
  return {
    put: (key, body, o) => inner.put(key, body, o),
    get: async (key, o): Promise<Readable | undefined> => (await read(key, o))?.stream,
    read,
    stat: (key, o) => inner.stat(key, o),
    list: (prefix, o) => inner.list(prefix, o),
    delete: (key, o) => inner.delete(key, o),
  };
}
