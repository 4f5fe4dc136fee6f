// The byte-level seam: every driver (fs now, s3 later) implements this and passes blob-store-suite.ts.
import type { Readable } from "node:stream";

export interface BlobStat {
  size: number;
}

export interface BlobOptions {
  signal?: AbortSignal;
}

export interface BlobStore {
  /**
   * Writes the whole body under key, atomically: readers see the old state or the complete new blob, never a part.
   * Writing an existing key replaces it (content-addressed callers write the same bytes).
   */
  put(key: string, body: Uint8Array | Readable, opts?: BlobOptions): Promise<BlobStat>;
  /** A stream of the blob, or undefined if absent. */
  get(key: string, opts?: BlobOptions): Promise<Readable | undefined>;
  stat(key: string, opts?: BlobOptions): Promise<BlobStat | undefined>;
  /** Keys under prefix, in no particular order. */
  list(prefix: string, opts?: BlobOptions): AsyncIterable<string>;
  /** Deleting an absent key is not an error. */
  delete(key: string, opts?: BlobOptions): Promise<void>;
}
