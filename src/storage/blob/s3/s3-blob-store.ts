// The S3 BlobStore: one object per key under `prefix` in one bucket, for nodes that share an object store.

import { addAbortSignal, pipeline, Readable, Transform } from "node:stream";
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { Code, RegistryError } from "../../../core/errors.js";
import type {
  BlobMaintenance,
  BlobOptions,
  BlobRead,
  BlobStat,
  BlobStore,
  Leftover,
  PutOptions,
  ReadOptions,
} from "../blob-store.js";
import { checkKey, checkPrefix, checkRange } from "../keys.js";

export interface S3BlobStoreOptions {
  /** e.g. `http://127.0.0.1:7480`; absent = AWS's own endpoint for `region`. */
  endpoint?: string;
  bucket: string;
  /** Keys live under this prefix ("" or ending in "/"), so one bucket can hold several registries. */
  prefix: string;
  region: string;
  /** Both or neither; neither = the SDK's default chain (env, shared config, instance role). */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** `http://endpoint/bucket/key` instead of `http://bucket.endpoint/key`; most non-AWS servers need it. */
  forcePathStyle: boolean;
}

export interface S3BlobStore extends BlobStore, BlobMaintenance {
  /** Closes the client's sockets. */
  close(): void;
}

// Multipart parts of lib-storage; a stream shorter than one part goes up as a single PutObject.
const partBytes = 8 * 1024 * 1024;

interface S3ErrorShape {
  name?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

function statusOf(reason: unknown): number | undefined {
  if (typeof reason !== "object" || reason === null) return undefined;
  const status = (reason as S3ErrorShape).$metadata?.httpStatusCode;
  return typeof status === "number" ? status : undefined;
}

function nameOf(reason: unknown): string | undefined {
  if (typeof reason !== "object" || reason === null) return undefined;
  const name = (reason as S3ErrorShape).name;
  return typeof name === "string" ? name : undefined;
}

const isMissing = (reason: unknown) =>
  statusOf(reason) === 404 || nameOf(reason) === "NoSuchKey" || nameOf(reason) === "NotFound";

/** `bytes 100-199/3000` → 3000. */
function totalFromContentRange(header: string | undefined): number | undefined {
  const total = header?.split("/")[1];
  return total === undefined || total === "*" ? undefined : Number(total);
}

/** Opens the client and checks that the bucket answers, so bad settings fail at start with a clear reason. */
export async function createS3BlobStore(opts: S3BlobStoreOptions): Promise<S3BlobStore> {
  const prefix = opts.prefix === "" || opts.prefix.endsWith("/") ? opts.prefix : `${opts.prefix}/`;
  checkPrefix(prefix);
  const config: S3ClientConfig = {
    region: opts.region,
    forcePathStyle: opts.forcePathStyle,
    // The SDK's default trailing aws-chunked checksums are refused by several S3 servers (RadosGW answers 411);
    // checksums only where the API requires them.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  };
  if (opts.endpoint !== undefined) config.endpoint = opts.endpoint;
  if (opts.accessKeyId !== undefined && opts.secretAccessKey !== undefined) {
    config.credentials = { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey };
  }
  const client = new S3Client(config);
  const Bucket = opts.bucket;
  const where = `s3://${Bucket}/${prefix} at ${opts.endpoint ?? `AWS ${opts.region}`}`;

  try {
    await client.send(new HeadBucketCommand({ Bucket }));
  } catch (err) {
    client.destroy();
    const status = statusOf(err);
    const reason =
      status === 404
        ? "the bucket does not exist: create it first"
        : status === 403
          ? "access denied: check storage.blob.s3.accessKeyId and secretAccessKey"
          : err instanceof Error
            ? err.message
            : String(err);
    throw new RegistryError(
      Code.FailedPrecondition,
      `cannot use blob store ${where}: ${reason}`,
      {},
      { cause: err },
    );
  }

  const withSignal = (signal: AbortSignal | undefined) => (signal ? { abortSignal: signal } : {});

  async function stat(key: string, o?: BlobOptions): Promise<BlobStat | undefined> {
    checkKey(key);
    o?.signal?.throwIfAborted();
    try {
      const head = await client.send(
        new HeadObjectCommand({ Bucket, Key: prefix + key }),
        withSignal(o?.signal),
      );
      return { size: head.ContentLength ?? 0 };
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async function read(key: string, o?: ReadOptions): Promise<BlobRead | undefined> {
    checkKey(key);
    if (o?.range) checkRange(o.range);
    o?.signal?.throwIfAborted();
    const range = o?.range && `bytes=${o.range.start}-${o.range.end ?? ""}`;
    try {
      const res = await client.send(
        new GetObjectCommand({ Bucket, Key: prefix + key, ...(range ? { Range: range } : {}) }),
        withSignal(o?.signal),
      );
      const body = res.Body;
      if (!(body instanceof Readable)) {
        throw new RegistryError(Code.Internal, `S3 GetObject for ${key} returned no stream body`);
      }
      const length = res.ContentLength ?? 0;
      const size = range ? (totalFromContentRange(res.ContentRange) ?? length) : length;
      if (o?.signal?.aborted) {
        body.destroy();
        o.signal.throwIfAborted();
      }
      return { stream: o?.signal ? addAbortSignal(o.signal, body) : body, size, length };
    } catch (err) {
      if (isMissing(err)) return undefined;
      if (statusOf(err) === 416) {
        throw new RegistryError(
          Code.InvalidArgument,
          `blob range starts at byte ${o?.range?.start} past the end of ${key}`,
          {},
          { cause: err },
        );
      }
      throw err;
    }
  }

  async function putStream(key: string, body: Readable, o?: PutOptions): Promise<number> {
    let size = 0;
    const counter = new Transform({
      transform(chunk: unknown, _encoding, done) {
        if (!(chunk instanceof Uint8Array) && typeof chunk !== "string") {
          done(new RegistryError(Code.InvalidArgument, "blob body stream must yield bytes or strings"));
          return;
        }
        const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
        size += bytes.byteLength;
        done(null, bytes);
      },
    });
    const abort = new AbortController();
    const source = o?.signal ? addAbortSignal(o.signal, body) : body;
    pipeline(source, counter, (err) => {
      if (err) abort.abort(err);
    });
    // lib-storage buffers one part: a short stream becomes one PutObject (honouring IfNoneMatch), a long one a
    // multipart upload that S3 makes visible only when complete, and aborts on failure.
    const upload = new Upload({
      client,
      params: { Bucket, Key: prefix + key, Body: counter, ...(o?.ifAbsent ? { IfNoneMatch: "*" } : {}) },
      partSize: partBytes,
      queueSize: 2,
      abortController: abort,
    });
    try {
      await upload.done();
    } catch (err) {
      // The source's own error says more than lib-storage's "Upload aborted."
      const cause = abort.signal.reason;
      throw abort.signal.aborted && cause instanceof Error ? cause : err;
    }
    o?.signal?.throwIfAborted();
    return size;
  }

  return {
    async put(key: string, body: Uint8Array | Readable, o?: PutOptions): Promise<BlobStat> {
      checkKey(key);
      try {
        o?.signal?.throwIfAborted();
        if (body instanceof Uint8Array) {
          await client.send(
            new PutObjectCommand({
              Bucket,
              Key: prefix + key,
              Body: body,
              ContentLength: body.byteLength,
              ...(o?.ifAbsent ? { IfNoneMatch: "*" } : {}),
            }),
            withSignal(o?.signal),
          );
          return { size: body.byteLength };
        }
        return { size: await putStream(key, body, o) };
      } catch (err) {
        if (!(body instanceof Uint8Array) && !body.destroyed) body.destroy();
        // 412: another writer's blob is already there, which is exactly what write-once asks for.
        if (o?.ifAbsent && statusOf(err) === 412) {
          const existing = await stat(key, o);
          if (existing) return existing;
        }
        throw err;
      }
    },

    async get(key: string, o?: BlobOptions): Promise<Readable | undefined> {
      return (await read(key, o))?.stream;
    },

    read,
    stat,

    async *list(listPrefix: string, o?: BlobOptions): AsyncIterable<string> {
      checkPrefix(listPrefix);
      let token: string | undefined;
      do {
        o?.signal?.throwIfAborted();
        const page = await client.send(
          new ListObjectsV2Command({
            Bucket,
            Prefix: prefix + listPrefix,
            ...(token ? { ContinuationToken: token } : {}),
          }),
          withSignal(o?.signal),
        );
        for (const object of page.Contents ?? []) {
          if (object.Key?.startsWith(prefix)) yield object.Key.slice(prefix.length);
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },

    async delete(key: string, o?: BlobOptions): Promise<void> {
      checkKey(key);
      o?.signal?.throwIfAborted();
      await client.send(new DeleteObjectCommand({ Bucket, Key: prefix + key }), withSignal(o?.signal));
    },

    async modifiedAt(key: string, o?: BlobOptions): Promise<number | undefined> {
      checkKey(key);
      try {
        const head = await client.send(
          new HeadObjectCommand({ Bucket, Key: prefix + key }),
          withSignal(o?.signal),
        );
        return head.LastModified?.getTime();
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw err;
      }
    },

    // A multipart upload a killed process never completed nor aborted: invisible, but stored (and billed).
    async *listLeftovers(o?: BlobOptions): AsyncIterable<Leftover> {
      let keyMarker: string | undefined;
      let uploadIdMarker: string | undefined;
      do {
        o?.signal?.throwIfAborted();
        const page = await client.send(
          new ListMultipartUploadsCommand({
            Bucket,
            Prefix: prefix,
            ...(keyMarker ? { KeyMarker: keyMarker } : {}),
            ...(uploadIdMarker ? { UploadIdMarker: uploadIdMarker } : {}),
          }),
          withSignal(o?.signal),
        );
        for (const u of page.Uploads ?? []) {
          if (u.Key?.startsWith(prefix) && u.UploadId) {
            yield {
              id: `${u.UploadId} ${u.Key.slice(prefix.length)}`,
              modifiedAt: u.Initiated?.getTime() ?? 0,
            };
          }
        }
        keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
        uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
      } while (keyMarker);
    },

    async removeLeftover(id: string, o?: BlobOptions): Promise<void> {
      const space = id.indexOf(" ");
      const key = id.slice(space + 1);
      checkKey(key);
      try {
        await client.send(
          new AbortMultipartUploadCommand({ Bucket, Key: prefix + key, UploadId: id.slice(0, space) }),
          withSignal(o?.signal),
        );
      } catch (err) {
        if (!isMissing(err)) throw err;
      }
    },

    close: () => client.destroy(),
  };
}
