// A bounded in-memory cache in front of any BlobStore, for small content-addressed blobs only.
import { Readable } from "node:stream";
import { unlessAborted } from "../../core/abort.js";
import { createCache } from "../../core/cache.js";
import { readAll } from "../../core/read-all.js";
import type { BlobOptions, BlobRange, BlobRead, BlobStore, ReadOptions } from "./blob-store.js";
import { checkRange, clampRange } from "./keys.js";
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
   * when it is absent, larger, or not content-addressed: then stream it with `read`. A hot download answers from
   * this with one write, no stream.
   */
  getBuffer(key: string, opts?: BlobOptions): Promise<Buffer | undefined>;
}

function fromMemory(data: Buffer, range: BlobRange | undefined): BlobRead {
  if (range) checkRange(range);
  const { start, end } = clampRange(range, data.byteLength);
  const part = data.subarray(start, end + 1);
  return { stream: Readable.from([part]), size: data.byteLength, length: part.byteLength };
}

/**
 * Content-addressed blobs never change, so a cached copy can never be stale: hot artifacts (a package everybody
 * installs) are served without touching the disk. Other keys pass straight through.
 */
export function withContentCache(inner: BlobStore, opts: ContentCacheOptions): ContentCache {
  // Content-addressed: no TTL and no epoch, only the bound. Concurrent misses of one blob share one read.
  const cache =
    opts.maxBytes > 0
      ? createCache<Buffer>({
          bound: { maxSize: opts.maxBytes, maxEntrySize: opts.maxItemBytes, sizeOf: (b) => b.byteLength },
        })
      : undefined;

  /** One round trip: the size arrives with the stream, and decides whether the bytes are worth keeping. */
  const load = async (key: string): Promise<Buffer | BlobRead | undefined> => {
    const opened = await inner.read(key);
    if (!opened || opened.size > opts.maxItemBytes) return opened;
    return readAll(opened.stream);
  };

  /** The bytes when kept (or now loaded and kept); a larger blob comes back open, for the caller to stream. */
  const lookup = async (key: string, o?: BlobOptions): Promise<Buffer | BlobRead | undefined> => {
    const hit = cache?.get(key);
    if (hit || !cache) return hit;
    let opener = false;
    // Not tied to one caller's signal: others may be waiting on the same read.
    const pending = cache.load(
      key,
      () => {
        opener = true;
        return load(key);
      },
      Buffer.isBuffer,
    );
    const found = await unlessAborted(pending, o?.signal);
    // A joined load of a large blob cannot share its stream: such a caller opens its own.
    return opener || found === undefined || Buffer.isBuffer(found) ? found : inner.read(key, o);
  };

  const cacheable = (key: string) => cache !== undefined && key.startsWith(contentPrefix);

  const read = async (key: string, o?: ReadOptions): Promise<BlobRead | undefined> => {
    // Ranged reads are rare (resumed downloads): they pass through instead of filling the cache.
    if (!cacheable(key) || (o?.range && !cache?.has(key))) return inner.read(key, o);
    const found = await lookup(key, o);
    if (found === undefined || !Buffer.isBuffer(found)) return found;
    return fromMemory(found, o?.range);
  };

  return {
    async getBuffer(key, o) {
      if (!cacheable(key)) return undefined;
      const found = await lookup(key, o);
      if (found === undefined || Buffer.isBuffer(found)) return found;
      // Too large to keep: the caller streams it with `read`. Nobody reads this one: an abort must not go unheard.
      found.stream.on("error", () => {});
      found.stream.destroy();
      return undefined;
    },
    put: (key, body, o) => {
      cache?.delete(key);
      return inner.put(key, body, o);
    },
    get: async (key, o) => (await read(key, o))?.stream,
    read,
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
