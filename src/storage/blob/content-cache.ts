// A bounded in-memory cache in front of any BlobStore, for small content-addressed blobs only.
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { LRUCache } from "lru-cache";
import type { BlobOptions, BlobStore } from "./blob-store.js";
import { contentPrefix } from "./paths.js";

export interface ContentCacheOptions {
  /** Total bytes kept; the least recently used blobs go first. 0 keeps nothing. */
  maxBytes: number;
  /** Larger blobs always stream from the store, so memory never grows with artifact size. */
  maxItemBytes: number;
}

export interface ContentCache extends BlobStore {
  /**
   * The whole blob in memory when it is a content blob small enough to keep (read and kept on a miss), or undefined
   * when it is absent, larger, or not content-addressed: then stream it with `get`. A hot download answers from this
   * with one write, no stream.
   */
  getBuffer(key: string, opts?: BlobOptions): Promise<Buffer | undefined>;
}

/**
 * Content-addressed blobs never change, so a cached copy can never be stale: hot artifacts (a package everybody
 * installs) are served without touching the disk. Other keys pass straight through.
 */
export function withContentCache(inner: BlobStore, opts: ContentCacheOptions): ContentCache {
  const cache =
    opts.maxBytes > 0
      ? new LRUCache<string, Buffer>({
          maxSize: opts.maxBytes,
          maxEntrySize: Math.min(opts.maxItemBytes, opts.maxBytes),
          sizeCalculation: (b) => Math.max(b.byteLength, 1),
        })
      : undefined;
  // Concurrent misses of one blob share one read.
  const loading = new Map<string, Promise<Buffer | undefined>>();

  const load = async (key: string, o: BlobOptions | undefined): Promise<Buffer | undefined> => {
    const stat = await inner.stat(key, o);
    if (!stat || stat.size > opts.maxItemBytes) return undefined;
    const stream = await inner.get(key, o);
    if (!stream) return undefined;
    const data = await buffer(stream);
    cache?.set(key, data);
    return data;
  };

  const getBuffer = (key: string, o?: BlobOptions): Promise<Buffer | undefined> => {
    if (!cache || !key.startsWith(contentPrefix)) return Promise.resolve(undefined);
    const hit = cache.get(key);
    if (hit) return Promise.resolve(hit);
    let pending = loading.get(key);
    if (!pending) {
      // Not tied to one caller's signal: others may be waiting on the same read.
      pending = load(key, undefined);
      loading.set(key, pending);
      const forget = () => loading.delete(key);
      pending.then(forget, forget);
    }
    if (!o?.signal) return pending;
    const signal = o.signal;
    signal.throwIfAborted();
    return Promise.race([
      pending,
      new Promise<never>((_, reject) =>
        signal.addEventListener("abort", () => reject(signal.reason), { once: true }),
      ),
    ]);
  };

  return {
    getBuffer,
    put: (key, body, o) => {
      cache?.delete(key);
      return inner.put(key, body, o);
    },
    async get(key, o) {
      const data = await getBuffer(key, o);
      return data ? Readable.from([data]) : inner.get(key, o);
    },
    stat: (key, o) => {
      const hit = key.startsWith(contentPrefix) ? cache?.get(key) : undefined;
      return hit ? Promise.resolve({ size: hit.byteLength }) : inner.stat(key, o);
    },
    list: (prefix, o) => inner.list(prefix, o),
    delete: (key, o) => {
      cache?.delete(key);
      return inner.delete(key, o);
    },
  };
}
