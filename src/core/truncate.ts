// Cuts text a stranger controls (a plugin's error, its stderr) to a size fit for a response body or a log line.

/** What a plugin's error text or stderr may add to one response or log line. */
export const maxPluginTextBytes = 4096;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The number of bytes `text` takes in UTF-8, without encoding it. */
function utf8Length(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/**
 * `text` when it fits in `maxBytes` of UTF-8; otherwise its first `maxBytes` bytes (cut at a character boundary)
 * and a marker saying how long it was: `… [truncated, 62914560 bytes in all]`.
 */
export function truncateText(text: string, maxBytes = maxPluginTextBytes): string {
  // A UTF-16 unit is at most 3 bytes: a text this short fits without counting.
  if (text.length * 3 <= maxBytes) return text;
  const total = utf8Length(text);
  if (total <= maxBytes) return text;
  // Encode only a prefix: at most maxBytes units can make the first maxBytes bytes.
  return `${headOf(encoder.encode(text.slice(0, maxBytes)), maxBytes)}… [truncated, ${total} bytes in all]`;
}

/** The first `maxBytes` bytes of UTF-8 `bytes` as text, plus a marker when there was more. */
export function truncateBytes(bytes: Uint8Array, maxBytes = maxPluginTextBytes): string {
  if (bytes.byteLength <= maxBytes) return decoder.decode(bytes);
  return `${headOf(bytes, maxBytes)}… [truncated, ${bytes.byteLength} bytes in all]`;
}

/** The end of `text` within `maxBytes`, for tails (stderr) where the last lines say most. */
export function truncateTextStart(text: string, maxBytes = maxPluginTextBytes): string {
  if (text.length * 3 <= maxBytes) return text;
  const total = utf8Length(text);
  if (total <= maxBytes) return text;
  const tail = encoder.encode(text.slice(-maxBytes));
  let from = Math.max(0, tail.byteLength - maxBytes);
  // Skip UTF-8 continuation bytes so the cut falls between characters.
  while (from < tail.byteLength && ((tail[from] ?? 0) & 0xc0) === 0x80) from++;
  return `[truncated, ${total} bytes in all] …${decoder.decode(tail.subarray(from))}`;
}

function headOf(bytes: Uint8Array, maxBytes: number): string {
  let end = Math.min(maxBytes, bytes.byteLength);
  // Back off to the start of a character: a cut inside one would decode to U+FFFD.
  if (end < bytes.byteLength) while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return decoder.decode(bytes.subarray(0, end));
}
