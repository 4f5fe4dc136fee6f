// The byte-level seam: every driver (fs, s3) implements this and passes blob-store-suite.ts.
import type { Readable } from "node:stream";

export interface BlobStat {
  size: number;
}

export interface BlobOptions {
  signal?: AbortSignal;
}

export interface PutOptions extends BlobOptions {
  /**
   * Write once: when the key already exists, leave it as it is and answer its stat. Content-addressed writers use
   * this (same key, same bytes), so a second writer costs no stat round trip and can never tear the first one's blob.
   */
  ifAbsent?: boolean;
}

/** Bytes `start` to `end` of a blob, both inclusive (as in HTTP `Range: bytes=start-end`); no end = to the last byte. */
export interface BlobRange {
  start: number;
  end?: number;
}

export interface ReadOptions extends BlobOptions {
  range?: BlobRange;
}

/** An open blob: its bytes as a stream, with the sizes known before the first byte is read. */
export interface BlobRead {
  stream: Readable;
  /** Size of the whole blob. */
  size: number;
  /** Bytes the stream yields: `size`, or the length of the requested range clamped to the blob. */
  length: number;
}

export interface BlobStore {
  /**
   * Writes the whole body under key, atomically: readers see the old state or the complete new blob, never a part.
   * Writing an existing key replaces it unless `ifAbsent` is set.
   */
  put(key: string, body: Uint8Array | Readable, opts?: PutOptions): Promise<BlobStat>;
  /** A stream of the blob, or undefined if absent. */
  get(key: string, opts?: BlobOptions): Promise<Readable | undefined>;
  /**
   * Opens the blob (or a range of it) in one round trip, or undefined if absent. A range starting at or past the end
   * of a non-empty blob is an InvalidArgument error.
   */
  read(key: string, opts?: ReadOptions): Promise<BlobRead | undefined>;
  stat(key: string, opts?: BlobOptions): Promise<BlobStat | undefined>;
  /** Keys under prefix, in no particular order. */
  list(prefix: string, opts?: BlobOptions): AsyncIterable<string>;
  /** Deleting an absent key is not an error. */
  delete(key: string, opts?: BlobOptions): Promise<void>;
}

/** Something a crashed write left outside the keys: a temp file (fs), an unfinished multipart upload (s3). */
export interface Leftover {
  /** Opaque to callers: what `removeLeftover` takes. */
  id: string;
  /** When it was started or last written, in milliseconds since the epoch. */
  modifiedAt: number;
}

/** What a driver offers for `protodepot fsck` beside the contract: ages of blobs and the leftovers of crashes. */
export interface BlobMaintenance {
  /** When the blob was last written, in milliseconds since the epoch; undefined when absent. */
  modifiedAt(key: string, opts?: BlobOptions): Promise<number | undefined>;
  listLeftovers(opts?: BlobOptions): AsyncIterable<Leftover>;
  /** Removing one that is already gone is not an error. */
  removeLeftover(id: string, opts?: BlobOptions): Promise<void>;
}
