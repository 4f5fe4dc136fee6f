// Plugin images: content-addressed blobs and manifests per repository, resumable uploads, tags as plugin versions.
// Composed from images/uploads.ts and images/manifests.ts over images/storage.ts; refusals carry an ImageFailure
// (images/failures.ts) that each protocol names in its own words.
import type { Readable } from "node:stream";
import { Code, RegistryError } from "../core/errors.js";
import { type FullName, parseFullName } from "../core/names.js";
import type { BlobStore } from "../storage/blob/blob-store.js";
import { contentKey } from "../storage/blob/paths.js";
import type { Principal } from "./auth.js";
import { hexOf, ImageFailure, imageError } from "./images/failures.js";
import { createImageManifests, type ImageManifests } from "./images/manifests.js";
import { type ImageQuotas, overImageBytes } from "./images/owner-quota.js";
import { createImageStorage, type ImageStorage, repositoryName } from "./images/storage.js";
import type { ImageLimits, ImagePlugins, StoredBlob } from "./images/types.js";
import { createImageUploads, type ImageUploads } from "./images/uploads.js";
import type { ImageUsage } from "./images/usage.js";

export { ImageFailure, isImageFailure } from "./images/failures.js";
export type { ImageQuotas } from "./images/owner-quota.js";
export type { ImageLimits, ImagePlugins, ManifestContent, StoredBlob, UploadState } from "./images/types.js";
export { createImageUsage, type ImageUsage } from "./images/usage.js";

/** Plugin images as the OCI Distribution API needs them: repositories, blobs, uploads, manifests and tags. */
export interface ImageService extends ImageUploads, ImageManifests {
  /** The repository `owner/name` (a plugin); InvalidArgument (InvalidRepository) otherwise. */
  repository(owner: string, name: string): FullName;
  /** Readers: the plugin is readable, or the caller may push under its owner. NotFound (UnknownRepository) otherwise. */
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
}

export function createImageService(opts: {
  blobs: BlobStore;
  plugins: ImagePlugins;
  limits: ImageLimits;
  /** The owner's limits of image bytes and images (services/quotas.ts). */
  quotas: ImageQuotas;
  /** What the owner's images hold, counted as `protodepot quota get` reports it. */
  usage: Pick<ImageUsage, "images">;
}): ImageService {
  const { blobs, plugins, limits, quotas, usage } = opts;
  const storage = createImageStorage(blobs);

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
      throw imageError(
        Code.NotFound,
        ImageFailure.UnknownRepository,
        `repository ${repositoryName(repo)} does not exist`,
      );
    }
  }

  const requireWrite = (principal: Principal, repo: FullName) =>
    plugins.requireImageWrite(principal, repo.owner);
  const uploads: ImageUploads = createImageUploads({ blobs, storage, limits, quotas, requireWrite });
  const manifests: ImageManifests = createImageManifests({
    blobs,
    storage,
    plugins,
    limits,
    quotas,
    usage,
    requireRead,
  });

  return {
    ...uploads,
    ...manifests,
    repository(owner, plugin) {
      try {
        return parseFullName("repository", `${owner}/${plugin}`);
      } catch (err) {
        throw new RegistryError(
          Code.InvalidArgument,
          RegistryError.from(err).message,
          { reason: ImageFailure.InvalidRepository },
          { cause: err },
        );
      }
    },
    requireRead,
    requireWrite,

    async statBlob(principal, repo, digest) {
      await requireRead(principal, repo);
      const hex = hexOf(digest);
      if (!(await storage.linked(repo, hex))) return undefined;
      const stat = await blobs.stat(contentKey(hex));
      return stat ? { digest, size: stat.size } : undefined;
    },

    async openBlob(principal, repo, digest, signal) {
      await requireRead(principal, repo);
      const hex = hexOf(digest);
      if (!(await storage.linked(repo, hex))) return undefined;
      const stat = await blobs.stat(contentKey(hex));
      const stream = stat && (await blobs.get(contentKey(hex), signal ? { signal } : {}));
      return stat && stream ? { digest, size: stat.size, stream } : undefined;
    },

    mountBlob: (principal, repo, digest, from) =>
      mountBlob({ blobs, storage, quotas, plugins, mayRead }, principal, repo, digest, from),
  };
}

/** Cross-repository mount: links a blob the caller may read elsewhere, within the owner's quota. */
async function mountBlob(
  c: {
    blobs: BlobStore;
    storage: ImageStorage;
    quotas: ImageQuotas;
    plugins: ImagePlugins;
    mayRead: (principal: Principal, repo: FullName) => Promise<boolean>;
  },
  principal: Principal,
  repo: FullName,
  digest: string,
  from: string,
): Promise<boolean> {
  const { blobs, storage, plugins } = c;
  await plugins.requireImageWrite(principal, repo.owner);
  const hex = hexOf(digest);
  // A source the caller may not read is answered like a missing blob: upload it instead.
  const source = await mountSource(c.mayRead, principal, from);
  if (!source || !(await storage.linked(source, hex))) return false;
  const stat = await blobs.stat(contentKey(hex));
  if (!stat) return false;
  // A mount is free for the pusher but not for the disk: it counts toward the owner's quota like an upload.
  const { bytes } = await c.quotas.imageLimits(repo.owner);
  if (bytes.limit > 0 && !(await storage.linkedByOwner(repo.owner, hex))) {
    const used = await storage.ownerBytes(repo.owner, await storage.openUploads());
    if (used + stat.size > bytes.limit) {
      throw overImageBytes(repo.owner, bytes, used, { mounting: `${digest} (${stat.size} bytes)` });
    }
  }
  await storage.link(repo, hex);
  return true;
}

/** The repository a mount names, if the caller may read it. */
async function mountSource(
  mayRead: (principal: Principal, repo: FullName) => Promise<boolean>,
  principal: Principal,
  from: string,
): Promise<FullName | undefined> {
  const [owner = "", plugin = "", ...rest] = from.split("/");
  if (rest.length) return undefined;
  let source: FullName;
  try {
    source = parseFullName("repository", `${owner}/${plugin}`);
  } catch {
    return undefined;
  }
  return (await mayRead(principal, source)) ? source : undefined;
}
