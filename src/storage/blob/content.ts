// Content-addressed helpers over any BlobStore.

import { Code, RegistryError } from "../../core/errors.js";
import { sha256HexOffThread } from "../../core/hashing.js";
import { readAll } from "../../core/read-all.js";
import type { BlobStore } from "./blob-store.js";
import { contentKey } from "./paths.js";

export interface StoredContent {
  key: string;
  /** `sha256:` + hex. */
  digest: string;
  size: number;
}

/** Stores bytes under their sha256 key; writing the same bytes twice is a cheap no-op. */
export async function putContent(store: BlobStore, data: Uint8Array): Promise<StoredContent> {
  const hex = await sha256HexOffThread(data);
  const key = contentKey(hex);
  // Same key, same bytes: a blob that is already there is kept, and the driver answers without rewriting it.
  await store.put(key, data, { ifAbsent: true });
  return { key, digest: `sha256:${hex}`, size: data.byteLength };
}

/** Reads a whole blob into memory; for small blobs (images, sources). A missing blob is an Internal error. */
export async function readContent(store: Pick<BlobStore, "get">, key: string): Promise<Uint8Array> {
  const stream = await store.get(key);
  if (!stream) throw new RegistryError(Code.Internal, `blob ${key} is missing from the blob store`);
  return new Uint8Array(await readAll(stream));
}
