// A bounded in-memory cache in front of any BlobStore, for small content-addressed blobs only.
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import type { BlobStore } from "./blob-store.js";
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

  return {
    put: (key, body, o) => {
      evict(key);
      return inner.put(key, body, o);
    },
    async get(key, o) {
      if (!key.startsWith(contentPrefix)) return inner.get(key, o);
      const hit = cache.get(key);
      if (hit) {
        // Map order is recency order: move the hit to the end.
        cache.delete(key);
        cache.set(key, hit);
        return Readable.from([hit]);
      }
      const stat = await inner.stat(key, o);
      if (!stat || stat.size > opts.maxItemBytes) return inner.get(key, o);
      const stream = await inner.get(key, o);
      if (!stream) return undefined;
      const data = await buffer(stream);
      remember(key, data);
      return Readable.from([data]);
    },
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
