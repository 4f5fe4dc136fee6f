// Ruby's Marshal format 4.8, write-only and only the subset a quick gemspec needs (nil, booleans, small integers,
// UTF-8 strings, symbols, arrays, hashes, objects with instance variables, and marshal_dump/_dump objects).
//
// Ruby writes a symbol's second use as a back-reference (`;`) and repeated objects as links (`@`); this encoder
// writes every symbol in full and never links, which Marshal.load accepts, so output depends only on the value.
import { Buffer } from "node:buffer";

export type RubyValue =
  | null
  | boolean
  /** A Fixnum (within ±2^30, Ruby's smallest fixnum range). */
  | number
  /** A UTF-8 String (written with the `E true` encoding ivar, as Ruby writes UTF-8 strings). */
  | string
  | RubyValue[]
  | { symbol: string }
  | { hash: [RubyValue, RubyValue][] }
  /** An object with instance variables (`o`), e.g. Gem::Dependency; ivar names include the `@`. */
  | { object: string; ivars: [string, RubyValue][] }
  /** An object whose class defines marshal_dump (`U`), e.g. Gem::Version: the class and the dumped value. */
  | { userMarshal: string; value: RubyValue }
  /** An object whose class defines _dump (`u`), e.g. Gem::Specification: the class and the dumped bytes. */
  | { userDump: string; bytes: Uint8Array };

const maxFixnum = 2 ** 30 - 1;

/** Marshal.dump of the value: the `04 08` version header, then the value. */
export function marshalDump(value: RubyValue): Uint8Array {
  const out: number[] = [4, 8];
  write(out, value);
  return Uint8Array.from(out);
}

/** Ruby's w_long: small values in one byte, others as a byte count and that many little-endian bytes. */
export function writeLong(out: number[], n: number): void {
  if (!Number.isInteger(n) || n > maxFixnum || n < -maxFixnum - 1) {
    throw new RangeError(`marshal: ${n} is not a fixnum this encoder writes`);
  }
  if (n === 0) {
    out.push(0);
    return;
  }
  if (n > 0 && n < 123) {
    out.push(n + 5);
    return;
  }
  if (n < 0 && n > -124) {
    out.push((n - 5) & 0xff);
    return;
  }
  const bytes: number[] = [];
  let rest = n;
  for (let i = 0; i < 4; i++) {
    bytes.push(rest & 0xff);
    rest >>= 8;
    if ((n >= 0 && rest === 0) || (n < 0 && rest === -1)) break;
  }
  out.push(n >= 0 ? bytes.length : (256 - bytes.length) & 0xff, ...bytes);
}

function writeBytes(out: number[], bytes: Uint8Array): void {
  writeLong(out, bytes.byteLength);
  for (const b of bytes) out.push(b);
}

function writeSymbol(out: number[], name: string): void {
  // Non-ASCII symbols need an encoding ivar; nothing in a gemspec has one.
  if (!/^[\x20-\x7e]+$/.test(name))
    throw new RangeError(`marshal: symbol ${JSON.stringify(name)} is not ASCII`);
  out.push(0x3a); // ':'
  writeBytes(out, Buffer.from(name, "ascii"));
}

function write(out: number[], v: RubyValue): void {
  if (v === null) {
    out.push(0x30); // '0'
  } else if (v === true) {
    out.push(0x54); // 'T'
  } else if (v === false) {
    out.push(0x46); // 'F'
  } else if (typeof v === "number") {
    out.push(0x69); // 'i'
    writeLong(out, v);
  } else if (typeof v === "string") {
    // 'I' (ivars follow) '"' bytes, then one ivar: :E => true (UTF-8).
    out.push(0x49, 0x22);
    writeBytes(out, Buffer.from(v, "utf8"));
    writeLong(out, 1);
    writeSymbol(out, "E");
    out.push(0x54);
  } else if (Array.isArray(v)) {
    out.push(0x5b); // '['
    writeLong(out, v.length);
    for (const item of v) write(out, item);
  } else if ("symbol" in v) {
    writeSymbol(out, v.symbol);
  } else if ("hash" in v) {
    out.push(0x7b); // '{'
    writeLong(out, v.hash.length);
    for (const [key, value] of v.hash) {
      write(out, key);
      write(out, value);
    }
  } else if ("object" in v) {
    out.push(0x6f); // 'o'
    writeSymbol(out, v.object);
    writeLong(out, v.ivars.length);
    for (const [name, value] of v.ivars) {
      writeSymbol(out, name);
      write(out, value);
    }
  } else if ("userMarshal" in v) {
    out.push(0x55); // 'U'
    writeSymbol(out, v.userMarshal);
    write(out, v.value);
  } else {
    out.push(0x75); // 'u'
    writeSymbol(out, v.userDump);
    writeBytes(out, v.bytes);
  }
}
