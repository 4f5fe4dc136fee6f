// The stores: drivers chosen by name, wrapped (verification under the content cache, the metadata cache over the
// driver), and `protodepot fsck`, which opens the same drivers bare.
import { mkdirSync } from "node:fs";
import { dirname, resolve, sep } from "node:path";
import type { FastifyBaseLogger } from "fastify";
import { Counter, type Registry as MetricsRegistry } from "prom-client";
import type { Config } from "../config/schema.js";
import { type FsckReport, runFsck } from "../services/fsck.js";
import type { StorageProbe } from "../services/health.js";
import type { BlobMaintenance, BlobStore } from "../storage/blob/blob-store.js";
import { type ContentCache, withContentCache } from "../storage/blob/content-cache.js";
import { createFsBlobStore } from "../storage/blob/fs/fs-blob-store.js";
import { withVerification } from "../storage/blob/verify.js";
import { withMetadataCache } from "../storage/meta/cached-metadata-store.js";
import type { LocalInvalidation } from "../storage/meta/invalidation.js";
import type { MetadataStore } from "../storage/meta/metadata-store.js";
import { createSqliteMetadataStore } from "../storage/meta/sqlite/sqlite-metadata-store.js";
import type { Shutdown } from "./shutdown.js";

// Drivers are chosen by name from explicit maps; a new driver is one entry each (and its config sub-object). The
// scale-out drivers are imported only when chosen: the AWS SDK and pg cost the embedded default ~25 MB of RSS each.
const metadataDrivers: Record<Config["storage"]["meta"]["driver"], (c: Config) => Promise<MetadataStore>> = {
  sqlite: (c) =>
    createSqliteMetadataStore({ path: c.storage.meta.sqlite.path ?? resolve(c.dataDir, "metadata.sqlite") }),
  postgres: async ({ storage: { meta } }) => {
    const { createPostgresMetadataStore } = await import(
      "../storage/meta/postgres/postgres-metadata-store.js"
    );
    // The schema refuses driver postgres without a url, so the fallback is never used.
    return createPostgresMetadataStore({ url: meta.postgres.url ?? "", poolSize: meta.postgres.poolSize });
  },
};

type OpenedBlobStore = BlobStore & Partial<BlobMaintenance> & { close?(): void };

const blobDrivers: Record<Config["storage"]["blob"]["driver"], (c: Config) => Promise<OpenedBlobStore>> = {
  fs: (c) =>
    createFsBlobStore({
      root: c.storage.blob.fs.root ?? resolve(c.dataDir, "blobs"),
      fsync: c.storage.blob.fs.fsync,
    }),
  s3: async ({ storage: { blob } }) => {
    const { createS3BlobStore } = await import("../storage/blob/s3/s3-blob-store.js");
    const { endpoint, bucket, prefix, region, accessKeyId, secretAccessKey, forcePathStyle } = blob.s3;
    return createS3BlobStore({
      ...(endpoint !== undefined ? { endpoint } : {}),
      // The schema refuses driver s3 without a bucket.
      bucket: bucket ?? "",
      prefix,
      region,
      ...(accessKeyId !== undefined && secretAccessKey !== undefined ? { accessKeyId, secretAccessKey } : {}),
      forcePathStyle: forcePathStyle ?? endpoint !== undefined,
    });
  },
};

export interface Storage {
  /** The configured driver behind the metadata cache. */
  meta: MetadataStore;
  /** Content-cached and (unless `storage.blob.verifyReads` is off) verified on read. */
  blobs: ContentCache;
}

export interface StorageParts {
  invalidation: LocalInvalidation;
  metrics: MetricsRegistry;
  log: FastifyBaseLogger;
  shutdown: Shutdown;
}

export async function openStorage(config: Config, parts: StorageParts): Promise<Storage> {
  const { invalidation, metrics, log, shutdown } = parts;
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const store = await metadataDrivers[config.storage.meta.driver](config);
  shutdown.add("storage", () => store.close());
  // Other nodes on the same database hear of this node's writes (and it of theirs) at once, not at the TTL.
  if (store.peers) invalidation.join(store.peers);
  const meta = withMetadataCache(store, { invalidation, mutableTtlMs: config.storage.meta.cacheTtlMs });
  const stored = await blobDrivers[config.storage.blob.driver](config);
  shutdown.add("storage", () => stored.close?.());
  const { cacheBytes, cacheItemBytes } = config.storage.blob;
  const corruptBlobs = new Counter({
    name: "protodepot_blob_corrupt_total",
    help: "Blob reads whose bytes did not match the sha256 they are stored under (storage/blob/verify.ts)",
    registers: [metrics],
  });
  // Under the content cache, so a small blob is hashed once, when it is kept, and never again per request.
  const verified = config.storage.blob.verifyReads
    ? withVerification(stored, {
        onCorrupt: (blob) => {
          corruptBlobs.inc();
          log.error(blob, "blob corrupt");
        },
      })
    : stored;
  const blobs = withContentCache(verified, { maxBytes: cacheBytes, maxItemBytes: cacheItemBytes });
  return { meta, blobs };
}

/**
 * The local directories this node writes to, for the write probe and free-space check of /healthz: dataDir, and
 * the sqlite file's directory and the fs blob root when they lie outside it (probe files never land among blobs).
 */
export function storageProbe(config: Config): StorageProbe {
  const dataDir = resolve(config.dataDir);
  const dirs = [dataDir];
  const outside = (dir: string) => dir !== dataDir && !dir.startsWith(dataDir + sep);
  const { meta, blob } = config.storage;
  if (meta.driver === "sqlite" && meta.sqlite.path && outside(dirname(resolve(meta.sqlite.path))))
    dirs.push(dirname(resolve(meta.sqlite.path)));
  if (blob.driver === "fs" && blob.fs.root && outside(resolve(blob.fs.root)))
    dirs.push(resolve(blob.fs.root));
  return { dirs, minFreeBytes: config.health.minFreeBytes };
}

/**
 * `protodepot fsck`: opens the configured storage as `serve` does (no listener, no plugins) and checks it. Safe beside
 * running nodes: it removes only unreferenced things older than `storage.blob.orphanGraceMs`, and damaged artifact
 * records, which serving nodes regenerate on the next request.
 */
export async function checkStorage(
  config: Config,
  opts: { repair: boolean; progress?: (line: string) => void },
): Promise<FsckReport> {
  const meta = await metadataDrivers[config.storage.meta.driver](config);
  try {
    const blobs = await blobDrivers[config.storage.blob.driver](config);
    try {
      return await runFsck({
        meta,
        blobs,
        repair: opts.repair,
        graceMs: config.storage.blob.orphanGraceMs,
        leaseGraceMs: config.storage.meta.leaseTtlMs,
        ...(opts.progress ? { progress: opts.progress } : {}),
      });
    } finally {
      blobs.close?.();
    }
  } finally {
    await meta.close();
  }
}
