// A bounded in-memory cache in front of any BlobStore, for small content-addressed blobs only.
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import type { BlobRange, BlobRead, BlobStore, ReadOptions } from "./blob-store.js";
import { checkRange, clampRange } from "./keys.js";
import { contentPrefix } from "./paths.js";

export interface ContentCacheOptions {
  /** Total bytes kept; the least recently used blobs go first. */
  maxBytes: number;
  /** Larger blobs always stream from the store, so memory never grows with artifact size. */
  maxItemBytes: number;
}

/**
 * Content-addressed blobs never change, so a cached copy can never be stale: hot artifacts (a package everybody
 * installs) are served without touching the disk. Other keys pass straight through.
 */
function fromMemory(data: Buffer, range: BlobRange | undefined): BlobRead {
  if (range) checkRange(range);
  const { start, end } = clampRange(range, data.byteLength);
  const part = data.subarray(start, end + 1);
  return { stream: Readable.from([part]), size: data.byteLength, length: part.byteLength };
}

export function withContentCache(inner: BlobStore, opts: ContentCacheOptions): BlobStore {
  const cache = new Map<string, Buffer>();
  let bytes = 0;

  const evict = (key: string) => {
    const hit = cache.get(key);
    if (hit) {
      cache.delete(key);
      bytes -= hit.byteLength;
    }
  };
  const remember = (key: string, data: Buffer) => {
    evict(key);
    cache.set(key, data);
    bytes += data.byteLength;
    for (const [oldest, value] of cache) {
      if (bytes <= opts.maxBytes) break;
      cache.delete(oldest);
      bytes -= value.byteLength;
    }
  };

  const read = async (key: string, o?: ReadOptions): Promise<BlobRead | undefined> => {
    if (!key.startsWith(contentPrefix)) return inner.read(key, o);
    const hit = cache.get(key);
    if (hit) {
      // Map order is recency order: move the hit to the end.
      cache.delete(key);
      cache.set(key, hit);
      return fromMemory(hit, o?.range);
    }
    // Ranged reads are rare (resumed downloads): they pass through instead of filling the cache.
    if (o?.range) return inner.read(key, o);
    // One round trip: the size arrives with the stream, and decides whether the bytes are worth keeping.
    const opened = await inner.read(key, o);
    if (!opened || opened.size > opts.maxItemBytes) return opened;
    const data = await buffer(opened.stream);
    remember(key, data);
    return fromMemory(data, o?.range);
  };

  return {
    put: (key, body, o) => {
      evict(key);
      return inner.put(key, body, o);
    },
    get: async (key, o) => (await read(key, o))?.stream,
    read,
    stat: (key, o) => {
      const hit = key.startsWith(contentPrefix) ? cache.get(key) : undefined;
      return hit ? Promise.resolve({ size: hit.byteLength }) : inner.stat(key, o);
    },
    list: (prefix, o) => inner.list(prefix, o),
    delete: (key, o) => {
      evict(key);
      return inner.delete(key, o);
    },
  };
}
