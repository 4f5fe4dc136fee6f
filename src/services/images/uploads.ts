// Resumable blob uploads: start, append chunks in order, finish against a digest, cancel, and sweep the abandoned.
// Every chunk is capped by the tightest of the blob size limit, the owner's quota and the user's open uploads.
import { createHash, randomBytes } from "node:crypto";
import { PassThrough, Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Code, RegistryError } from "../../core/errors.js";
import type { FullName } from "../../core/names.js";
import type { BlobStore } from "../../storage/blob/blob-store.js";
import { contentKey, ociUploadChunkKey } from "../../storage/blob/paths.js";
import type { Principal } from "../auth.js";
import { hexOf, ImageFailure, imageError, quotaExceeded } from "./failures.js";
import { type ImageQuotas, overImageBytes } from "./owner-quota.js";
import { type ImageStorage, repositoryName, type UploadInfo } from "./storage.js";
import type { ImageLimits, StoredBlob, UploadState } from "./types.js";

export interface ImageUploads {
  startUpload(principal: Principal, repo: FullName): Promise<UploadState>;
  /** Appends a chunk; `start`, when the client sent Content-Range, must equal the current offset. */
  appendUpload(
    principal: Principal,
    repo: FullName,
    id: string,
    body: Readable,
    start?: number,
  ): Promise<UploadState>;
  uploadStatus(principal: Principal, repo: FullName, id: string): Promise<UploadState>;
  /**
   * Appends the optional last chunk (`start` as in appendUpload), verifies the digest and stores the blob. A refused
   * last chunk (out of order, wrong digest, over a limit) is not kept: the client may retry it.
   */
  finishUpload(
    principal: Principal,
    repo: FullName,
    id: string,
    digest: string,
    body?: Readable,
    start?: number,
  ): Promise<StoredBlob>;
  cancelUpload(principal: Principal, repo: FullName, id: string): Promise<void>;
  /** Removes uploads untouched for longer than the TTL; returns how many. */
  sweepUploads(now?: number): Promise<number>;
}

/** A budget of bytes and the error for going past it. */
interface Cap {
  max: number;
  error: () => RegistryError;
}

/** Passes bytes through and fails with the cap's error past its `max`, before the byte past it is kept. */
function capped(cap: Cap): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen > cap.max) cb(cap.error());
      else cb(null, chunk);
    },
  });
}

/** One operation per key at a time (clients send chunks in order; this keeps offsets consistent). */
function createKeyedLock() {
  const locks = new Map<string, Promise<unknown>>();
  return <T>(id: string, work: () => Promise<T>): Promise<T> => {
    const previous = locks.get(id) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    locks.set(id, settled);
    void settled.then(() => {
      if (locks.get(id) === settled) locks.delete(id);
    });
    return next;
  };
}

/** Where uploads live and what bounds them. */
interface UploadContext {
  blobs: BlobStore;
  storage: ImageStorage;
  limits: ImageLimits;
  quotas: ImageQuotas;
}

export function createImageUploads({
  requireWrite,
  ...c
}: UploadContext & {
  /** Throws unless the caller may push under the repository's owner. */
  requireWrite: (principal: Principal, repo: FullName) => Promise<void>;
}): ImageUploads {
  const locked = createKeyedLock();

  return {
    async startUpload(principal, repo) {
      await requireWrite(principal, repo);
      return startUpload(c, repo, principal.user?.name);
    },

    async appendUpload(principal, repo, id, body, start) {
      await requireWrite(principal, repo);
      return locked(id, async () => {
        const { undo: _, ...state } = await append(c, repo, id, body, start);
        return state;
      });
    },

    async uploadStatus(principal, repo, id) {
      await requireWrite(principal, repo);
      const info = await readInfo(c, repo, id);
      return { id, offset: info.offset };
    },

    async finishUpload(principal, repo, id, digest, body, start) {
      await requireWrite(principal, repo);
      const hex = hexOf(digest);
      return locked(id, async () => {
        const appended = body ? await append(c, repo, id, body, start) : undefined;
        try {
          return await finish(c, repo, id, digest, hex);
        } catch (err) {
          await appended?.undo();
          throw err;
        }
      });
    },

    async cancelUpload(principal, repo, id) {
      await requireWrite(principal, repo);
      await locked(id, async () => {
        await readInfo(c, repo, id);
        await c.storage.removeUpload(id);
      });
    },

    sweepUploads: (now = Date.now()) => sweepUploads(c, locked, now),
  };
}

/** A new upload session of `user` (undefined for an admin token without a user), within their open-upload quota. */
async function startUpload(
  c: UploadContext,
  repo: FullName,
  user: string | undefined,
): Promise<{ id: string; offset: number }> {
  const max = c.limits.maxOpenUploadsPerUser;
  if (max !== undefined && user !== undefined) {
    const open = (await c.storage.openUploads()).filter((u) => u.info.user === user).length;
    if (open >= max) {
      throw quotaExceeded(
        `user ${user} already has ${open} open uploads (oci.maxOpenUploadsPerUser = ${max}): finish or cancel ` +
          "one, or wait until unfinished ones expire",
      );
    }
  }
  const id = randomBytes(16).toString("hex");
  await c.storage.writeUploadInfo(id, {
    repository: repositoryName(repo),
    ...(user !== undefined ? { user } : {}),
    touchedAt: Date.now(),
    offset: 0,
  });
  return { id, offset: 0 };
}

/** Removes uploads untouched for longer than uploadTtlMs, and leftovers without readable info; returns how many. */
async function sweepUploads(
  c: UploadContext,
  locked: <T>(id: string, task: () => Promise<T>) => Promise<T>,
  now: number,
): Promise<number> {
  let removed = 0;
  for (const id of await c.storage.uploadIds()) {
    // No readable info: a leftover, removed.
    const info = await c.storage.readUploadInfo(id).catch(() => undefined);
    const touchedAt = Number(info?.touchedAt) || 0;
    if (now - touchedAt < c.limits.uploadTtlMs) continue;
    await locked(id, () => c.storage.removeUpload(id));
    removed++;
  }
  return removed;
}

async function readInfo(c: UploadContext, repo: FullName, id: string): Promise<UploadInfo> {
  const info = await c.storage.readUploadInfo(id);
  if (!info || info.repository !== repositoryName(repo)) {
    throw imageError(
      Code.NotFound,
      ImageFailure.UnknownUpload,
      `upload ${id} of ${repositoryName(repo)} does not exist (finished, cancelled or expired)`,
    );
  }
  return info;
}

/** The owner's quota and the user's open-upload budget, where configured. */
async function quotaCaps(c: UploadContext, repo: FullName, info: UploadInfo): Promise<Cap[]> {
  const caps: Cap[] = [];
  const { bytes } = await c.quotas.imageLimits(repo.owner);
  const perUser = c.limits.maxOpenUploadBytesPerUser !== undefined && info.user !== undefined;
  if (bytes.limit === 0 && !perUser) return caps;
  const uploads = await c.storage.openUploads();
  if (bytes.limit > 0) {
    const used = await c.storage.ownerBytes(repo.owner, uploads);
    caps.push({
      max: bytes.limit - used,
      error: () => overImageBytes(repo.owner, bytes, used, { openUploads: true }),
    });
  }
  if (c.limits.maxOpenUploadBytesPerUser !== undefined && info.user !== undefined) {
    const user = info.user;
    const open = uploads.filter((u) => u.info.user === user).reduce((n, u) => n + u.info.offset, 0);
    const max = c.limits.maxOpenUploadBytesPerUser;
    caps.push({
      max: max - open,
      error: () =>
        quotaExceeded(
          `user ${user} would have more than ${max} bytes in open uploads (oci.maxOpenUploadBytesPerUser): ` +
            "finish or cancel other uploads first",
        ),
    });
  }
  return caps;
}

/** The tightest of the blob size limit, the owner's quota and the uploading user's open-upload budget. */
async function chunkCap(c: UploadContext, repo: FullName, id: string, info: UploadInfo): Promise<Cap> {
  const caps: Cap[] = [
    {
      max: c.limits.maxBlobBytes - info.offset,
      error: () =>
        imageError(
          Code.ResourceExhausted,
          ImageFailure.TooLarge,
          `blob of upload ${id} is larger than ${c.limits.maxBlobBytes} bytes (oci.maxBlobBytes)`,
        ),
    },
  ];
  caps.push(...(await quotaCaps(c, repo, info)));
  const tightest = caps.reduce((a, b) => (b.max < a.max ? b : a));
  if (tightest.max < 0) throw tightest.error();
  return tightest;
}

/** Appends a chunk; returns the new state and a way to take exactly this chunk back. */
async function append(
  c: UploadContext,
  repo: FullName,
  id: string,
  body: Readable,
  start?: number,
): Promise<UploadState & { undo: () => Promise<void> }> {
  const info = await readInfo(c, repo, id);
  const nothing = { id, offset: info.offset, undo: async () => {} };
  if (start !== undefined && start !== info.offset) {
    throw imageError(
      Code.FailedPrecondition,
      ImageFailure.UploadOutOfOrder,
      `chunk starts at ${start} but upload ${id} has ${info.offset} bytes: send the chunk starting at ${info.offset}`,
    );
  }
  const limiter = capped(await chunkCap(c, repo, id, info));
  const counted = new PassThrough();
  const piping = pipeline(body, limiter, counted);
  const chunkKey = ociUploadChunkKey(id, info.offset);
  const [put] = await Promise.allSettled([c.blobs.put(chunkKey, counted), piping]);
  await piping.catch(async (err: unknown) => {
    // A refused chunk never stays: whatever part of it was written goes.
    await c.blobs.delete(chunkKey).catch(() => undefined);
    throw err;
  });
  if (put.status === "rejected") throw put.reason;
  if (put.value.size === 0) {
    await c.blobs.delete(chunkKey);
    return nothing;
  }
  const offset = info.offset + put.value.size;
  await c.storage.writeUploadInfo(id, { ...info, offset, touchedAt: Date.now() });
  return {
    id,
    offset,
    undo: async () => {
      await c.blobs.delete(chunkKey);
      await c.storage.writeUploadInfo(id, { ...info, touchedAt: Date.now() });
    },
  };
}

async function* concat(c: UploadContext, keys: readonly string[]): AsyncGenerator<Buffer> {
  for (const key of keys) {
    const stream = await c.blobs.get(key);
    if (!stream) throw new RegistryError(Code.Internal, `upload chunk ${key} is missing`);
    for await (const chunk of stream) yield chunk as Buffer;
  }
}

/** Verifies the received bytes against `digest` and stores them as that blob of the repository. */
async function finish(
  c: UploadContext,
  repo: FullName,
  id: string,
  digest: string,
  hex: string,
): Promise<StoredBlob> {
  const info = await readInfo(c, repo, id);
  const keys = await c.storage.chunksOf(id);
  // Hash first, store second: a blob is never visible under a digest its bytes do not have.
  const hash = createHash("sha256");
  for await (const chunk of concat(c, keys)) hash.update(chunk);
  const actual = hash.digest("hex");
  if (actual !== hex) {
    throw imageError(
      Code.InvalidArgument,
      ImageFailure.DigestMismatch,
      `the uploaded ${info.offset} bytes have digest sha256:${actual}, not ${digest}`,
    );
  }
  if (!(await c.blobs.stat(contentKey(hex)))) {
    await c.blobs.put(contentKey(hex), Readable.from(concat(c, keys), { objectMode: false }));
  }
  await c.storage.link(repo, hex);
  await c.storage.removeUpload(id);
  return { digest, size: info.offset };
}
