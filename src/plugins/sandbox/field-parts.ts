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

export function createFieldParts(partBytes = defaultPartBytes): FieldParts {
  const parts: Uint8Array[] = [];
  // The bytes of the part being built: earlier chunks' tails, whole or sliced.
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let state: State = { at: "tag", shift: 0, value: 0 };

  const flush = (chunk: Buffer, from: number, to: number) => {
    pending.push(chunk.subarray(from, to));
    pendingBytes += to - from;
    parts.push(Buffer.concat(pending, pendingBytes));
    pending = [];
    pendingBytes = 0;
  };

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
              const wireType = state.value % 8;
              if (state.value < 8 || wireType === 3 || wireType === 4 || wireType > 5) {
                state = { at: "opaque" };
                break;
              }
              state =
                wireType === 0
                  ? { at: "varint" }
                  : wireType === 1
                    ? { at: "skip", left: 8 }
                    : wireType === 5
                      ? { at: "skip", left: 4 }
                      : { at: "length", shift: 0, value: 0 };
              continue;
            }
            if (state.value > 0) {
              state = { at: "skip", left: state.value };
              continue;
            }
          }
        }
        // A field ended at i.
        state = { at: "tag", shift: 0, value: 0 };
        if (pendingBytes + (i - start) >= partBytes) {
          flush(chunk, start, i);
          start = i;
        }
      }
      if (start < chunk.length) {
        pending.push(start === 0 ? chunk : chunk.subarray(start));
        pendingBytes += chunk.length - start;
      }
    },
    end() {
      if (pendingBytes > 0) parts.push(Buffer.concat(pending, pendingBytes));
      pending = [];
      pendingBytes = 0;
      return parts;
    },
  };
}
