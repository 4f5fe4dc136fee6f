// A child's stdout collected as parts cut at top-level protobuf field boundaries, so a large CodeGeneratorResponse
// is never joined into one buffer: the pipe's 64 KiB chunks are copied once into parts of whole fields (each file
// of the response is one field), and each part decodes on its own (mergeFromBinary, in order, gives the message
// the whole stream encodes). Nothing is dropped or allocated ahead of the bytes: concatenated, the parts are
// exactly what was written, whatever it was; output that is not protobuf simply ends up as one part.

/** stdout as parts: each a run of whole top-level fields, except that the last may hold what did not parse. */
export type StdoutParts = readonly Uint8Array[];

export interface FieldParts {
  push(chunk: Buffer): void;
  /** The parts so far and the rest; call once, at the end of the stream. */
  end(): StdoutParts;
}

/** Parts are cut at the first field boundary past this size: few parts, each small beside the whole. */
const defaultPartBytes = 1 << 20;

type State =
  | { at: "tag"; shift: number; value: number }
  | { at: "length"; shift: number; value: number }
  | { at: "varint" }
  | { at: "skip"; left: number }
  | { at: "opaque" };

/** What follows a complete tag: its wire type's payload, or opaque when it is not a valid field tag. */
function afterTag(tag: number): State {
  const wireType = tag % 8;
  if (tag < 8 || wireType === 3 || wireType === 4 || wireType > 5) return { at: "opaque" };
  if (wireType === 0) return { at: "varint" };
  if (wireType === 1) return { at: "skip", left: 8 };
  if (wireType === 5) return { at: "skip", left: 4 };
  return { at: "length", shift: 0, value: 0 };
}

/** The part being built, from slices of the chunks as they come, and the finished parts. */
interface PartBuilder {
  readonly parts: Uint8Array[];
  /** Bytes of the part being built. */
  size(): number;
  /** Whether the part being built has its final size reserved. */
  isSized(): boolean;
  /** Adds chunk[from, to). */
  append(chunk: Buffer, from: number, to: number): void;
  /** Adds chunk[from, to) and ends the part. */
  flush(chunk: Buffer, from: number, to: number): void;
  /** The part will be `size` bytes: from here on it is filled in place. */
  sized(size: number): void;
}

function createPartBuilder(): PartBuilder {
  const parts: Uint8Array[] = [];
  // The bytes of the part being built: earlier chunks' tails, whole or sliced.
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  /**
   * The part being built once its size is known (a field that takes it past partBytes, which it then ends with):
   * each chunk is copied in as it comes, instead of 60 MiB joined at once at the end, on the event loop.
   */
  let target: { buf: Buffer; at: number } | undefined;
  const append = (chunk: Buffer, from: number, to: number) => {
    if (to <= from) return;
    if (target) {
      chunk.copy(target.buf, target.at, from, to);
      target.at += to - from;
    } else pending.push(from === 0 && to === chunk.length ? chunk : chunk.subarray(from, to));
    pendingBytes += to - from;
  };
  return {
    parts,
    size: () => pendingBytes,
    isSized: () => target !== undefined,
    append,
    flush(chunk, from, to) {
      append(chunk, from, to);
      parts.push(target ? target.buf.subarray(0, target.at) : Buffer.concat(pending, pendingBytes));
      target = undefined;
      pending = [];
      pendingBytes = 0;
    },
    sized(size) {
      const buf = Buffer.allocUnsafe(size);
      let at = 0;
      for (const p of pending) at += p.copy(buf, at);
      target = { buf, at };
      pending = [];
    },
  };
}

/**
 * `maxBytes`: the most the stream may bring (the caller's stdout cap). A part whose size a field's length gives
 * is reserved at once and filled in place when it fits; a larger claim is never reserved (the stream is stopped at
 * the cap before it could be true), its bytes are kept as they come and joined at the end.
 */
export function createFieldParts(partBytes = defaultPartBytes, maxBytes = 0): FieldParts {
  const part = createPartBuilder();
  let state: State = { at: "tag", shift: 0, value: 0 };
  return {
    push(chunk) {
      let start = 0; // where this chunk's share of the pending part begins
      let i = 0;
      while (i < chunk.length) {
        if (state.at === "opaque") break;
        if (state.at === "skip") {
          const n = Math.min(state.left, chunk.length - i);
          i += n;
          state.left -= n;
          if (state.left > 0) break;
        } else {
          const byte = chunk[i++] ?? 0;
          if (state.at === "varint") {
            if (byte & 0x80) continue;
          } else {
            // Tags and lengths: at most 5 bytes of 7 bits (protobuf's 32-bit tags and lengths).
            if (state.shift > 28) {
              state = { at: "opaque" };
              break;
            }
            state.value += (byte & 0x7f) * 2 ** state.shift;
            state.shift += 7;
            if (byte & 0x80) continue;
            if (state.at === "tag") {
              state = afterTag(state.value);
              if (state.at === "opaque") break;
              continue;
            }
            if (state.value > 0) {
              const size = part.size() + (i - start) + state.value;
              if (!part.isSized() && size >= partBytes && size <= maxBytes) {
                part.append(chunk, start, i);
                start = i;
                part.sized(size);
              }
              state = { at: "skip", left: state.value };
              continue;
            }
          }
        }
        // A field ended at i.
        state = { at: "tag", shift: 0, value: 0 };
        if (part.size() + (i - start) >= partBytes) {
          part.flush(chunk, start, i);
          start = i;
        }
      }
      part.append(chunk, start, chunk.length);
    },
    end() {
      if (part.size() > 0) part.flush(Buffer.alloc(0), 0, 0);
      return part.parts;
    },
  };
}
