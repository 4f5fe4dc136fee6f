// Plugin images: content-addressed blobs and manifests per repository, resumable uploads, tags as plugin versions.
import { createHash, randomBytes } from "node:crypto";
import { PassThrough, Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Code, RegistryError } from "../core/errors.js";
import { type FullName, parseFullName } from "../core/names.js";
import {
  type Descriptor,
  digestPattern,
  parseImageConfig,
  parseManifest,
  pickPlatform,
} from "../core/oci.js";
import type { BlobStore } from "../storage/blob/blob-store.js";
import { readContent } from "../storage/blob/content.js";
import {
  contentKey,
  ociLinkKey,
  ociOwnerLinksPrefix,
  ociUploadChunkKey,
  ociUploadInfoKey,
  ociUploadPrefix,
  ociUploadsPrefix,
} from "../storage/blob/paths.js";
import type { Principal } from "./auth.js";
import type { PluginService } from "./plugins.js";

export interface ImageLimits {
  /** Largest blob (layer or config) accepted. */
  maxBlobBytes: number;
  /** Largest manifest or index accepted. */
  maxManifestBytes: number;
  /** Uploads untouched for this long are removed. */
  uploadTtlMs: number;
  /** Bytes one owner's repositories may hold: distinct blobs and manifests, plus its open uploads. */
  ownerQuotaBytes?: number;
  /** Image plugin versions (pushed tags) one owner may hold. */
  ownerQuotaImages?: number;
  /** Uploads one user may have open at once. */
  maxOpenUploadsPerUser?: number;
  /** Bytes of all open uploads of one user. */
  maxOpenUploadBytesPerUser?: number;
}

export interface UploadState {
  id: string;
  /** Bytes received so far. */
  offset: number;
}

export interface StoredBlob {
  digest: string;
  size: number;
}

export interface ManifestContent {
  digest: string;
  mediaType: string;
  bytes: Uint8Array;
}

export interface ImageService {
  /** The repository `owner/name` (a plugin); InvalidArgument with reason NAME_INVALID otherwise. */
  repository(owner: string, name: string): FullName;
  /** Readers: the plugin is readable, or the caller may push under its owner. NotFound (NAME_UNKNOWN) otherwise. */
  requireRead(principal: Principal, repo: FullName): Promise<void>;
  requireWrite(principal: Principal, repo: FullName): Promise<void>;
  statBlob(principal: Principal, repo: FullName, digest: string): Promise<StoredBlob | undefined>;
  openBlob(
    principal: Principal,
    repo: FullName,
    digest: string,
    signal?: AbortSignal,
  ): Promise<(StoredBlob & { stream: Readable }) | undefined>;
  /** Cross-repository mount: true when the blob was linked, false when the caller should upload it instead. */
  mountBlob(principal: Principal, repo: FullName, digest: string, from: string): Promise<boolean>;
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
  putManifest(
    principal: Principal,
    repo: FullName,
    reference: string,
    bytes: Uint8Array,
    contentType: string | undefined,
  ): Promise<{ digest: string; version?: string }>;
  getManifest(principal: Principal, repo: FullName, reference: string): Promise<ManifestContent | undefined>;
  /** Tags (plugin versions of pushed images) in lexical order. */
  listTags(principal: Principal, repo: FullName): Promise<string[]>;
  /** Removes uploads untouched for longer than the TTL; returns how many. */
  sweepUploads(now?: number): Promise<number>;
}

interface UploadInfo {
  repository: string;
  /** Who started it: the name of the user its bytes count against (oci.maxOpenUpload*PerUser). */
  user?: string;
  /** Last activity, ms since the epoch. */
  touchedAt: number;
  offset: number;
}

const tagPattern = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

const fail = (code: Code, reason: string, message: string) => new RegistryError(code, message, { reason });

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

/** A quota refusal: 413 DENIED on the wire, naming the quota and its config key. */
const quotaExceeded = (message: string) => fail(Code.ResourceExhausted, "DENIED", message);

function hexOf(digest: string): string {
  if (!digestPattern.test(digest)) {
    throw fail(
      Code.InvalidArgument,
      "DIGEST_INVALID",
      `invalid digest "${digest}": this registry takes sha256:<64 lowercase hex>`,
    );
  }
  return digest.slice("sha256:".length);
}

export function createImageService(opts: {
  blobs: BlobStore;
  plugins: PluginService;
  limits: ImageLimits;
}): ImageService {
  const { blobs, plugins, limits } = opts;
  // One operation per upload at a time (clients send chunks in order; this keeps offsets consistent).
  const locks = new Map<string, Promise<unknown>>();
  const locked = <T>(id: string, work: () => Promise<T>): Promise<T> => {
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

  const name = (repo: FullName) => `${repo.owner}/${repo.name}`;
  async function linkedByOwner(owner: string, hex: string): Promise<boolean> {
    for await (const key of blobs.list(ociOwnerLinksPrefix(owner))) if (key.endsWith(`/${hex}`)) return true;
    return false;
  }
  const linked = async (repo: FullName, hex: string) =>
    (await blobs.stat(ociLinkKey(repo.owner, repo.name, hex))) !== undefined;
  const link = (repo: FullName, hex: string) =>
    blobs.put(ociLinkKey(repo.owner, repo.name, hex), new Uint8Array());

  async function mayRead(principal: Principal, repo: FullName): Promise<boolean> {
    if (await plugins.findReadablePlugin(principal, repo.owner, repo.name)) return true;
    try {
      await plugins.requireImageWrite(principal, repo.owner);
      return true;
    } catch {
      return false;
    }
  }

  async function requireRead(principal: Principal, repo: FullName) {
    if (!(await mayRead(principal, repo))) {
      // The same answer for a hidden plugin as for a missing one.
      throw fail(Code.NotFound, "NAME_UNKNOWN", `repository ${name(repo)} does not exist`);
    }
  }

  async function readInfo(repo: FullName, id: string): Promise<UploadInfo> {
    const unknown = () =>
      fail(
        Code.NotFound,
        "BLOB_UPLOAD_UNKNOWN",
        `upload ${id} of ${name(repo)} does not exist (finished, cancelled or expired)`,
      );
    let key: string;
    try {
      key = ociUploadInfoKey(id);
    } catch {
      throw unknown();
    }
    if (!(await blobs.stat(key))) throw unknown();
    const info = JSON.parse(Buffer.from(await readContent(blobs, key)).toString("utf8")) as UploadInfo;
    if (info.repository !== name(repo)) throw unknown();
    return info;
  }

  const writeInfo = (id: string, info: UploadInfo) =>
    blobs.put(ociUploadInfoKey(id), Buffer.from(JSON.stringify(info)));

  /** Every open upload with its info (unreadable leftovers are the sweeper's). */
  async function openUploads(): Promise<{ id: string; info: UploadInfo }[]> {
    const ids = new Set<string>();
    for await (const key of blobs.list(ociUploadsPrefix)) {
      const id = key.slice(ociUploadsPrefix.length).split("/")[0];
      if (id) ids.add(id);
    }
    const found: { id: string; info: UploadInfo }[] = [];
    for (const id of ids) {
      try {
        const info = JSON.parse(Buffer.from(await readContent(blobs, ociUploadInfoKey(id))).toString("utf8"));
        found.push({ id, info: info as UploadInfo });
      } catch {
        // Half-written or already removed.
      }
    }
    return found;
  }

  /** Bytes held by an owner's repositories (each distinct blob once) and its open uploads. */
  async function ownerBytes(owner: string, uploads: readonly { info: UploadInfo }[]): Promise<number> {
    const prefix = ociOwnerLinksPrefix(owner);
    const seen = new Set<string>();
    let bytes = 0;
    for await (const key of blobs.list(prefix)) {
      const hex = key.slice(key.lastIndexOf("/") + 1);
      if (seen.has(hex) || !/^[0-9a-f]{64}$/.test(hex)) continue;
      seen.add(hex);
      bytes += (await blobs.stat(contentKey(hex)))?.size ?? 0;
    }
    for (const u of uploads) if (u.info.repository.startsWith(`${owner}/`)) bytes += u.info.offset;
    return bytes;
  }

  /** The tightest of the blob size limit, the owner's quota and the uploading user's open-upload budget. */
  async function chunkCap(repo: FullName, id: string, info: UploadInfo): Promise<Cap> {
    const caps: Cap[] = [
      {
        max: limits.maxBlobBytes - info.offset,
        error: () =>
          fail(
            Code.ResourceExhausted,
            "SIZE_INVALID",
            `blob of upload ${id} is larger than ${limits.maxBlobBytes} bytes (oci.maxBlobBytes)`,
          ),
      },
    ];
    if (limits.ownerQuotaBytes !== undefined || limits.maxOpenUploadBytesPerUser !== undefined) {
      const uploads = await openUploads();
      if (limits.ownerQuotaBytes !== undefined) {
        const used = await ownerBytes(repo.owner, uploads);
        const quota = limits.ownerQuotaBytes;
        caps.push({
          max: quota - used,
          error: () =>
            quotaExceeded(
              `owner ${repo.owner} would exceed its image storage quota of ${quota} bytes (oci.ownerQuotaBytes; ` +
                `${used} in use, open uploads included): remove unused plugin images or ask an admin for more`,
            ),
        });
      }
      if (limits.maxOpenUploadBytesPerUser !== undefined && info.user !== undefined) {
        const user = info.user;
        const open = uploads.filter((u) => u.info.user === user).reduce((n, u) => n + u.info.offset, 0);
        const max = limits.maxOpenUploadBytesPerUser;
        caps.push({
          max: max - open,
          error: () =>
            quotaExceeded(
              `user ${user} would have more than ${max} bytes in open uploads (oci.maxOpenUploadBytesPerUser): ` +
                "finish or cancel other uploads first",
            ),
        });
      }
    }
    const tightest = caps.reduce((a, b) => (b.max < a.max ? b : a));
    if (tightest.max < 0) throw tightest.error();
    return tightest;
  }

  /** Appends a chunk; returns the new state and a way to take exactly this chunk back. */
  async function append(
    repo: FullName,
    id: string,
    body: Readable,
    start?: number,
  ): Promise<UploadState & { undo: () => Promise<void> }> {
    const info = await readInfo(repo, id);
    const nothing = { id, offset: info.offset, undo: async () => {} };
    if (start !== undefined && start !== info.offset) {
      throw fail(
        Code.FailedPrecondition,
        "BLOB_UPLOAD_INVALID",
        `chunk starts at ${start} but upload ${id} has ${info.offset} bytes: send the chunk starting at ${info.offset}`,
      );
    }
    const limiter = capped(await chunkCap(repo, id, info));
    const counted = new PassThrough();
    const piping = pipeline(body, limiter, counted);
    const chunkKey = ociUploadChunkKey(id, info.offset);
    const [put] = await Promise.allSettled([blobs.put(chunkKey, counted), piping]);
    await piping.catch(async (err: unknown) => {
      // A refused chunk never stays: whatever part of it was written goes.
      await blobs.delete(chunkKey).catch(() => undefined);
      throw err;
    });
    if (put.status === "rejected") throw put.reason;
    if (put.value.size === 0) {
      await blobs.delete(chunkKey);
      return nothing;
    }
    const offset = info.offset + put.value.size;
    await writeInfo(id, { ...info, offset, touchedAt: Date.now() });
    return {
      id,
      offset,
      undo: async () => {
        await blobs.delete(chunkKey);
        await writeInfo(id, { ...info, touchedAt: Date.now() });
      },
    };
  }

  async function chunksOf(id: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const key of blobs.list(ociUploadPrefix(id))) if (!key.endsWith("/info")) keys.push(key);
    return keys.sort();
  }

  async function* concat(keys: readonly string[]): AsyncGenerator<Buffer> {
    for (const key of keys) {
      const stream = await blobs.get(key);
      if (!stream) throw new RegistryError(Code.Internal, `upload chunk ${key} is missing`);
      for await (const chunk of stream) yield chunk as Buffer;
    }
  }

  async function removeUpload(id: string) {
    for await (const key of blobs.list(ociUploadPrefix(id))) await blobs.delete(key);
  }

  /** Verifies the received bytes against `digest` and stores them as that blob of the repository. */
  async function finish(repo: FullName, id: string, digest: string, hex: string): Promise<StoredBlob> {
    const info = await readInfo(repo, id);
    const keys = await chunksOf(id);
    // Hash first, store second: a blob is never visible under a digest its bytes do not have.
    const hash = createHash("sha256");
    for await (const chunk of concat(keys)) hash.update(chunk);
    const actual = hash.digest("hex");
    if (actual !== hex) {
      throw fail(
        Code.InvalidArgument,
        "DIGEST_INVALID",
        `the uploaded ${info.offset} bytes have digest sha256:${actual}, not ${digest}`,
      );
    }
    if (!(await blobs.stat(contentKey(hex)))) {
      await blobs.put(contentKey(hex), Readable.from(concat(keys), { objectMode: false }));
    }
    await link(repo, hex);
    await removeUpload(id);
    return { digest, size: info.offset };
  }

  async function storeManifestBytes(repo: FullName, bytes: Uint8Array): Promise<string> {
    const hex = createHash("sha256").update(bytes).digest("hex");
    if (!(await blobs.stat(contentKey(hex)))) await blobs.put(contentKey(hex), bytes);
    await link(repo, hex);
    return `sha256:${hex}`;
  }

  /** The descriptor's blob is in the repository and has exactly the size the manifest claims for it. */
  async function requireLinked(repo: FullName, d: Descriptor, reason: string, what: string) {
    const hex = hexOf(d.digest);
    const stat = (await linked(repo, hex)) ? await blobs.stat(contentKey(hex)) : undefined;
    if (!stat) {
      throw fail(
        Code.NotFound,
        reason,
        `${what} ${d.digest} has not been pushed to ${name(repo)}: push it first`,
      );
    }
    if (stat.size !== d.size) {
      throw fail(
        Code.InvalidArgument,
        "MANIFEST_INVALID",
        `the manifest says ${what} ${d.digest} is ${d.size} bytes, but it is ${stat.size}: fix the descriptor's size`,
      );
    }
  }

  /** Image plugin versions (pushed tags) under the repository's owner, and whether `tag` is one of them. */
  async function ownerImages(principal: Principal, repo: FullName, tag: string) {
    let held = 0;
    let exists = false;
    for (const p of await plugins.listPlugins(principal, repo.owner)) {
      if (p.owner !== repo.owner) continue;
      const versions = await plugins.listPluginVersions(principal, `${p.owner}/${p.name}`);
      const images = versions.filter((v) => v.source.kind === "oci");
      held += images.length;
      if (p.name === repo.name && images.some((v) => v.version === tag)) exists = true;
    }
    return { held, exists };
  }

  /** The labels of the image a tag will run: the manifest's config, or for an index its linux/amd64 image's. */
  async function labelsOf(bytes: Uint8Array, contentType: string | undefined) {
    const parsed = parseManifest(bytes, contentType);
    let image = parsed;
    if (parsed.kind === "index") {
      const picked = pickPlatform(parsed.manifests);
      if (!picked) {
        throw fail(
          Code.InvalidArgument,
          "MANIFEST_INVALID",
          "the index has no linux/amd64 image, the only platform plugins run on",
        );
      }
      image = parseManifest(await readContent(blobs, contentKey(hexOf(picked.digest))), picked.mediaType);
      if (image.kind !== "image")
        throw fail(Code.InvalidArgument, "MANIFEST_INVALID", "an index inside an index");
    }
    if (image.kind !== "image") throw new Error("unreachable");
    const config = await readContent(blobs, contentKey(hexOf(image.config.digest)));
    return parseImageConfig(config).labels;
  }

  return {
    repository(owner, plugin) {
      try {
        return parseFullName("repository", `${owner}/${plugin}`);
      } catch (err) {
        throw new RegistryError(
          Code.InvalidArgument,
          RegistryError.from(err).message,
          { reason: "NAME_INVALID" },
          { cause: err },
        );
      }
    },
    requireRead,
    async requireWrite(principal, repo) {
      await plugins.requireImageWrite(principal, repo.owner);
    },

    async statBlob(principal, repo, digest) {
      await requireRead(principal, repo);
      const hex = hexOf(digest);
      if (!(await linked(repo, hex))) return undefined;
      const stat = await blobs.stat(contentKey(hex));
      return stat ? { digest, size: stat.size } : undefined;
    },

    async openBlob(principal, repo, digest, signal) {
      await requireRead(principal, repo);
      const hex = hexOf(digest);
      if (!(await linked(repo, hex))) return undefined;
      const stat = await blobs.stat(contentKey(hex));
      const stream = stat && (await blobs.get(contentKey(hex), signal ? { signal } : {}));
      return stat && stream ? { digest, size: stat.size, stream } : undefined;
    },

    async mountBlob(principal, repo, digest, from) {
      await plugins.requireImageWrite(principal, repo.owner);
      const hex = hexOf(digest);
      const [owner = "", plugin = "", ...rest] = from.split("/");
      if (rest.length) return false;
      let source: FullName;
      try {
        source = parseFullName("repository", `${owner}/${plugin}`);
      } catch {
        return false;
      }
      // A source the caller may not read is answered like a missing blob: upload it instead.
      if (!(await mayRead(principal, source)) || !(await linked(source, hex))) return false;
      const stat = await blobs.stat(contentKey(hex));
      if (!stat) return false;
      // A mount is free for the pusher but not for the disk: it counts toward the owner's quota like an upload.
      if (limits.ownerQuotaBytes !== undefined && !(await linkedByOwner(repo.owner, hex))) {
        const used = await ownerBytes(repo.owner, await openUploads());
        if (used + stat.size > limits.ownerQuotaBytes) {
          throw quotaExceeded(
            `owner ${repo.owner} would exceed its image storage quota of ${limits.ownerQuotaBytes} bytes ` +
              `(oci.ownerQuotaBytes; ${used} in use) by mounting ${digest} (${stat.size} bytes)`,
          );
        }
      }
      await link(repo, hex);
      return true;
    },

    async startUpload(principal, repo) {
      await plugins.requireImageWrite(principal, repo.owner);
      const user = principal.user?.name;
      if (limits.maxOpenUploadsPerUser !== undefined && user !== undefined) {
        const open = (await openUploads()).filter((u) => u.info.user === user).length;
        if (open >= limits.maxOpenUploadsPerUser) {
          throw quotaExceeded(
            `user ${user} already has ${open} open uploads (oci.maxOpenUploadsPerUser = ` +
              `${limits.maxOpenUploadsPerUser}): finish or cancel one, or wait until unfinished ones expire`,
          );
        }
      }
      const id = randomBytes(16).toString("hex");
      await writeInfo(id, {
        repository: name(repo),
        ...(user !== undefined ? { user } : {}),
        touchedAt: Date.now(),
        offset: 0,
      });
      return { id, offset: 0 };
    },

    async appendUpload(principal, repo, id, body, start) {
      await plugins.requireImageWrite(principal, repo.owner);
      return locked(id, async () => {
        const { undo: _, ...state } = await append(repo, id, body, start);
        return state;
      });
    },

    async uploadStatus(principal, repo, id) {
      await plugins.requireImageWrite(principal, repo.owner);
      const info = await readInfo(repo, id);
      return { id, offset: info.offset };
    },

    async finishUpload(principal, repo, id, digest, body, start) {
      await plugins.requireImageWrite(principal, repo.owner);
      const hex = hexOf(digest);
      return locked(id, async () => {
        const appended = body ? await append(repo, id, body, start) : undefined;
        try {
          return await finish(repo, id, digest, hex);
        } catch (err) {
          await appended?.undo();
          throw err;
        }
      });
    },

    async cancelUpload(principal, repo, id) {
      await plugins.requireImageWrite(principal, repo.owner);
      await locked(id, async () => {
        await readInfo(repo, id);
        await removeUpload(id);
      });
    },

    async putManifest(principal, repo, reference, bytes, contentType) {
      await plugins.requireImageWrite(principal, repo.owner);
      if (bytes.length > limits.maxManifestBytes) {
        throw fail(
          Code.ResourceExhausted,
          "SIZE_INVALID",
          `manifest is ${bytes.length} bytes; this registry takes at most ${limits.maxManifestBytes} (oci.maxManifestBytes)`,
        );
      }
      const byDigest = reference.includes(":");
      if (!byDigest && !tagPattern.test(reference)) {
        throw fail(Code.InvalidArgument, "TAG_INVALID", `invalid tag "${reference}"`);
      }
      let parsed: ReturnType<typeof parseManifest>;
      try {
        parsed = parseManifest(bytes, contentType);
      } catch (err) {
        throw new RegistryError(Code.InvalidArgument, RegistryError.from(err).message, {
          reason: "MANIFEST_INVALID",
        });
      }
      if (parsed.kind === "image") {
        await requireLinked(repo, parsed.config, "MANIFEST_BLOB_UNKNOWN", "config blob");
        for (const layer of parsed.layers) {
          await requireLinked(repo, layer, "MANIFEST_BLOB_UNKNOWN", "layer blob");
        }
      } else {
        for (const m of parsed.manifests) await requireLinked(repo, m, "MANIFEST_UNKNOWN", "manifest");
      }
      if (limits.ownerQuotaBytes !== undefined) {
        const used = await ownerBytes(repo.owner, await openUploads());
        if (used + bytes.length > limits.ownerQuotaBytes) {
          throw quotaExceeded(
            `owner ${repo.owner} would exceed its image storage quota of ${limits.ownerQuotaBytes} bytes ` +
              `(oci.ownerQuotaBytes; ${used} in use): remove unused plugin images or ask an admin for more`,
          );
        }
      }
      const actual = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
      if (byDigest) {
        hexOf(reference);
        if (reference !== actual) {
          throw fail(
            Code.InvalidArgument,
            "DIGEST_INVALID",
            `the manifest's digest is ${actual}, not ${reference}`,
          );
        }
        await storeManifestBytes(repo, bytes);
        return { digest: actual };
      }
      // A tag is a plugin version: validate everything (semver, labels, immutability) before storing anything.
      if (limits.ownerQuotaImages !== undefined) {
        // Pushing an existing tag again (the same digest is accepted, another one refused later) adds nothing.
        const { held, exists } = await ownerImages(principal, repo, reference);
        if (!exists && held >= limits.ownerQuotaImages) {
          throw quotaExceeded(
            `owner ${repo.owner} already holds ${held} plugin images, its quota (oci.ownerQuotaImages = ` +
              `${limits.ownerQuotaImages}): remove unused plugin versions or ask an admin for more`,
          );
        }
      }
      let labels: Record<string, string>;
      try {
        labels = await labelsOf(bytes, contentType);
      } catch (err) {
        const e = RegistryError.from(err);
        throw new RegistryError(e.code, e.message, { reason: e.fields.reason ?? "MANIFEST_INVALID" });
      }
      await storeManifestBytes(repo, bytes);
      try {
        const { version } = await plugins.pushImageVersion(principal, {
          owner: repo.owner,
          name: repo.name,
          version: reference,
          digest: actual,
          labels,
        });
        return { digest: actual, version: version.version };
      } catch (err) {
        const e = RegistryError.from(err);
        if (e.code === Code.InvalidArgument && !e.fields.reason) {
          throw new RegistryError(e.code, e.message, { ...e.fields, reason: "TAG_INVALID" });
        }
        if (e.code === Code.AlreadyExists) {
          throw new RegistryError(Code.AlreadyExists, e.message, { ...e.fields, reason: "DENIED" });
        }
        throw err;
      }
    },

    async getManifest(principal, repo, reference) {
      await requireRead(principal, repo);
      let digest = reference;
      if (!reference.includes(":")) {
        if (!tagPattern.test(reference)) return undefined;
        const plugin = await plugins.findReadablePlugin(principal, repo.owner, repo.name);
        if (!plugin) return undefined;
        const version = (await plugins.listPluginVersions(principal, name(repo))).find(
          (v) => v.version === reference,
        );
        if (version?.source.kind !== "oci") return undefined;
        digest = version.source.digest;
      }
      const hex = hexOf(digest);
      if (!(await linked(repo, hex)) || !(await blobs.stat(contentKey(hex)))) return undefined;
      const bytes = await readContent(blobs, contentKey(hex));
      return { digest, mediaType: parseManifest(bytes).mediaType, bytes };
    },

    async listTags(principal, repo) {
      await requireRead(principal, repo);
      if (!(await plugins.findReadablePlugin(principal, repo.owner, repo.name))) return [];
      const versions = await plugins.listPluginVersions(principal, name(repo));
      return versions
        .filter((v) => v.source.kind === "oci")
        .map((v) => v.version)
        .sort();
    },

    async sweepUploads(now = Date.now()) {
      const ids = new Set<string>();
      for await (const key of blobs.list(ociUploadsPrefix)) {
        const id = key.slice(ociUploadsPrefix.length).split("/")[0];
        if (id) ids.add(id);
      }
      let removed = 0;
      for (const id of ids) {
        let touchedAt = 0;
        try {
          const info = JSON.parse(
            Buffer.from(await readContent(blobs, ociUploadInfoKey(id))).toString("utf8"),
          );
          touchedAt = Number((info as UploadInfo).touchedAt) || 0;
        } catch {
          // No readable info: a leftover, remove it.
        }
        if (now - touchedAt < limits.uploadTtlMs) continue;
        await locked(id, () => removeUpload(id));
        removed++;
      }
      return removed;
    },
  };
}
