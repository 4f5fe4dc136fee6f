// Hashing bytes a stranger sent without holding the event loop: on libuv's thread pool where WebCrypto has the
// algorithm, otherwise in slices that yield between them. /healthz must answer within 100 ms whatever is hashed:
// 27 MB of a push hashed at once held the loop for 0.4 s.
import { createHash, webcrypto } from "node:crypto";

export function sha256Hex(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** sha256Hex computed on the thread pool (WebCrypto's digest). */
export async function sha256HexOffThread(data: Uint8Array): Promise<string> {
  return Buffer.from(await webcrypto.subtle.digest("SHA-256", data)).toString("hex");
}

/** One slice is hashed in a few milliseconds on a slow machine. */
const sliceBytes = 1 << 20;

/**
 * `createHash(algorithm, options).update(data).digest()`, in slices of 1 MiB with a turn of the event loop between
 * them, for algorithms WebCrypto lacks (md5, shake256).
 */
export async function digestYielding(
  algorithm: string,
  data: Uint8Array,
  options?: { outputLength: number },
): Promise<Buffer> {
  const hash = createHash(algorithm, options);
  for (let at = 0; at < data.byteLength; at += sliceBytes) {
    hash.update(data.subarray(at, at + sliceBytes));
    if (at + sliceBytes < data.byteLength) await new Promise((resolve) => setImmediate(resolve));
  }
  return hash.digest();
}
