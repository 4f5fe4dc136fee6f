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

/** The bucket and key prefix a store lives in, and the client that reaches them. */
interface S3Place {
  client: S3Client;
  Bucket: string;
  prefix: string;
}

const withSignal = (signal: AbortSignal | undefined) => (signal ? { abortSignal: signal } : {});

function clientConfig(opts: S3BlobStoreOptions): S3ClientConfig {
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
  return config;
}

/** Throws FailedPrecondition, saying what to fix, unless the bucket answers. */
async function checkBucket(at: S3Place, where: string): Promise<void> {
  try {
    await at.client.send(new HeadBucketCommand({ Bucket: at.Bucket }));
  } catch (err) {
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
}

async function statObject(at: S3Place, key: string, o?: BlobOptions): Promise<BlobStat | undefined> {
  checkKey(key);
  o?.signal?.throwIfAborted();
  try {
    const head = await at.client.send(
      new HeadObjectCommand({ Bucket: at.Bucket, Key: at.prefix + key }),
      withSignal(o?.signal),
    );
    return { size: head.ContentLength ?? 0 };
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

async function readObject(at: S3Place, key: string, o?: ReadOptions): Promise<BlobRead | undefined> {
  checkKey(key);
  if (o?.range) checkRange(o.range);
  o?.signal?.throwIfAborted();
  const range = o?.range && `bytes=${o.range.start}-${o.range.end ?? ""}`;
  try {
    const res = await at.client.send(
      new GetObjectCommand({ Bucket: at.Bucket, Key: at.prefix + key, ...(range ? { Range: range } : {}) }),
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

/** Passes bytes through and counts them; anything else in the stream is refused. */
function byteCounter(): { stream: Transform; size: () => number } {
  let size = 0;
  const stream = new Transform({
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
  return { stream, size: () => size };
}

async function putStream(at: S3Place, key: string, body: Readable, o?: PutOptions): Promise<number> {
  const counter = byteCounter();
  const abort = new AbortController();
  const source = o?.signal ? addAbortSignal(o.signal, body) : body;
  pipeline(source, counter.stream, (err) => {
    if (err) abort.abort(err);
  });
  // lib-storage buffers one part: a short stream becomes one PutObject (honouring IfNoneMatch), a long one a
  // multipart upload that S3 makes visible only when complete, and aborts on failure.
  const upload = new Upload({
    client: at.client,
    params: {
      Bucket: at.Bucket,
      Key: at.prefix + key,
      Body: counter.stream,
      ...(o?.ifAbsent ? { IfNoneMatch: "*" } : {}),
    },
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
  return counter.size();
}

async function putObject(
  at: S3Place,
  key: string,
  body: Uint8Array | Readable,
  o?: PutOptions,
): Promise<BlobStat> {
  checkKey(key);
  try {
    o?.signal?.throwIfAborted();
    if (!(body instanceof Uint8Array)) return { size: await putStream(at, key, body, o) };
    await at.client.send(
      new PutObjectCommand({
        Bucket: at.Bucket,
        Key: at.prefix + key,
        Body: body,
        ContentLength: body.byteLength,
        ...(o?.ifAbsent ? { IfNoneMatch: "*" } : {}),
      }),
      withSignal(o?.signal),
    );
    return { size: body.byteLength };
  } catch (err) {
    if (!(body instanceof Uint8Array) && !body.destroyed) body.destroy();
    // 412: another writer's blob is already there, which is exactly what write-once asks for.
    if (o?.ifAbsent && statusOf(err) === 412) {
      const existing = await statObject(at, key, o);
      if (existing) return existing;
    }
    throw err;
  }
}

async function* listObjects(at: S3Place, listPrefix: string, o?: BlobOptions): AsyncIterable<string> {
  checkPrefix(listPrefix);
  let token: string | undefined;
  do {
    o?.signal?.throwIfAborted();
    const page = await at.client.send(
      new ListObjectsV2Command({
        Bucket: at.Bucket,
        Prefix: at.prefix + listPrefix,
        ...(token ? { ContinuationToken: token } : {}),
      }),
      withSignal(o?.signal),
    );
    for (const object of page.Contents ?? []) {
      if (object.Key?.startsWith(at.prefix)) yield object.Key.slice(at.prefix.length);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

async function modifiedAt(at: S3Place, key: string, o?: BlobOptions): Promise<number | undefined> {
  checkKey(key);
  try {
    const head = await at.client.send(
      new HeadObjectCommand({ Bucket: at.Bucket, Key: at.prefix + key }),
      withSignal(o?.signal),
    );
    return head.LastModified?.getTime();
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

// A multipart upload a killed process never completed nor aborted: invisible, but stored (and billed).
async function* listLeftovers(at: S3Place, o?: BlobOptions): AsyncIterable<Leftover> {
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  do {
    o?.signal?.throwIfAborted();
    const page = await at.client.send(
      new ListMultipartUploadsCommand({
        Bucket: at.Bucket,
        Prefix: at.prefix,
        ...(keyMarker ? { KeyMarker: keyMarker } : {}),
        ...(uploadIdMarker ? { UploadIdMarker: uploadIdMarker } : {}),
      }),
      withSignal(o?.signal),
    );
    for (const u of page.Uploads ?? []) {
      if (u.Key?.startsWith(at.prefix) && u.UploadId) {
        yield {
          id: `${u.UploadId} ${u.Key.slice(at.prefix.length)}`,
          modifiedAt: u.Initiated?.getTime() ?? 0,
        };
      }
    }
    keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
  } while (keyMarker);
}

async function removeLeftover(at: S3Place, id: string, o?: BlobOptions): Promise<void> {
  const space = id.indexOf(" ");
  const key = id.slice(space + 1);
  checkKey(key);
  try {
    await at.client.send(
      new AbortMultipartUploadCommand({
        Bucket: at.Bucket,
        Key: at.prefix + key,
        UploadId: id.slice(0, space),
      }),
      withSignal(o?.signal),
    );
  } catch (err) {
    if (!isMissing(err)) throw err;
  }
}

/** Opens the client and checks that the bucket answers, so bad settings fail at start with a clear reason. */
export async function createS3BlobStore(opts: S3BlobStoreOptions): Promise<S3BlobStore> {
  const prefix = opts.prefix === "" || opts.prefix.endsWith("/") ? opts.prefix : `${opts.prefix}/`;
  checkPrefix(prefix);
  const at: S3Place = { client: new S3Client(clientConfig(opts)), Bucket: opts.bucket, prefix };
  try {
    await checkBucket(at, `s3://${opts.bucket}/${prefix} at ${opts.endpoint ?? `AWS ${opts.region}`}`);
  } catch (err) {
    at.client.destroy();
    throw err;
  }
  return {
    put: (key, body, o) => putObject(at, key, body, o),
    get: async (key, o) => (await readObject(at, key, o))?.stream,
    read: (key, o) => readObject(at, key, o),
    stat: (key, o) => statObject(at, key, o),
    list: (listPrefix, o) => listObjects(at, listPrefix, o),
    async delete(key, o) {
      checkKey(key);
      o?.signal?.throwIfAborted();
      await at.client.send(
        new DeleteObjectCommand({ Bucket: at.Bucket, Key: at.prefix + key }),
        withSignal(o?.signal),
      );
    },
    modifiedAt: (key, o) => modifiedAt(at, key, o),
    listLeftovers: (o) => listLeftovers(at, o),
    removeLeftover: (id, o) => removeLeftover(at, id, o),
    close: () => at.client.destroy(),
  };
}
