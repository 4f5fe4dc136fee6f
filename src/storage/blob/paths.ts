// The only place that builds blob keys. Layout of a blob store (fs root or S3 bucket prefix):
//
//   sha256/
//     ab/
//       abcdef0123…        content-addressed bytes, named by the hex sha256 of their content:
//                          commit sources (.tar.gz), commit images (FileDescriptorSet), artifacts
//   tmp/                   (fs driver only) in-flight writes, renamed into place when complete
//
// Keys use "/" separators, lowercase hex, and never contain "..".
import { createHash } from "node:crypto";

const hexDigest = /^[0-9a-f]{64}$/;

/** Key of content whose hex sha256 is `hex`. */
export function contentKey(hex: string): string {
  if (!hexDigest.test(hex)) throw new Error(`not a sha256 hex digest: ${hex}`);
  return `sha256/${hex.slice(0, 2)}/${hex}`;
}

export function sha256Hex(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

export const contentPrefix = "sha256/";
