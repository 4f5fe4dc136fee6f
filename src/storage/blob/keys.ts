// Blob key and range rules every driver enforces the same way (the layout itself is in paths.ts).
import { Code, RegistryError } from "../../core/errors.js";
import type { BlobRange } from "./blob-store.js";

const segmentPattern = /^[A-Za-z0-9._-]+$/;

function validSegments(value: string): boolean {
  return value.split("/").every((s) => segmentPattern.test(s) && s !== "." && s !== "..");
}

/** Throws InvalidArgument unless key is a relative "/"-separated path of safe segments. */
export function checkKey(key: string): void {
  if (!validSegments(key)) {
    throw new RegistryError(
      Code.InvalidArgument,
      `invalid blob key "${key}": use "/"-separated segments of letters, digits, ".", "_" or "-", without "." or ".."`,
    );
  }
}

/** A prefix is any start of a valid key: "" or a key, optionally ending in "/". */
export function checkPrefix(prefix: string): void {
  const body = prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
  if (body !== "" && !validSegments(body)) {
    throw new RegistryError(Code.InvalidArgument, `invalid blob key prefix "${prefix}"`);
  }
}

/** Throws InvalidArgument for a range that is not `0 <= start <= end` in whole numbers. */
export function checkRange(range: BlobRange): void {
  const { start, end } = range;
  const whole = (n: number) => Number.isSafeInteger(n) && n >= 0;
  if (!whole(start) || (end !== undefined && (!whole(end) || end < start))) {
    throw new RegistryError(
      Code.InvalidArgument,
      `invalid blob range ${start}-${end ?? ""}: need whole numbers with start <= end`,
    );
  }
}

/** The inclusive byte span of `range` within a blob of `size` bytes; InvalidArgument when it starts past the end. */
export function clampRange(range: BlobRange | undefined, size: number): { start: number; end: number } {
  if (range === undefined) return { start: 0, end: size - 1 };
  if (range.start >= size && !(size === 0 && range.start === 0)) {
    throw new RegistryError(
      Code.InvalidArgument,
      `blob range starts at byte ${range.start} but the blob has ${size} bytes`,
    );
  }
  return { start: range.start, end: Math.min(range.end ?? size - 1, size - 1) };
}
