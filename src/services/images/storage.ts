// What the image service keeps in the blob store besides content: which blobs each repository holds (links), and
// the state of open uploads (an info record and the chunks received). Key layout: storage/blob/paths.ts.
import { createHash } from "node:crypto";
import type { FullName } from "../../core/names.js";
import type { BlobStore } from "../../storage/blob/blob-store.js";
import { readContent } from "../../storage/blob/content.js";
import {
  contentKey,
  ociLinkKey,
  ociOwnerLinksPrefix,
  ociUploadInfoKey,
  ociUploadPrefix,
  ociUploadsPrefix,
} from "../../storage/blob/paths.js";

export interface UploadInfo {
  repository: string;
  /** Who started it: the name of the user its bytes count against (oci.maxOpenUpload*PerUser). */
  user?: string;
  /** Last activity, ms since the epoch. */
  touchedAt: number;
  offset: number;
}

export const repositoryName = (repo: FullName) => `${repo.owner}/${repo.name}`;

export interface ImageStorage {
  /** Whether the repository holds the blob `hex`. */
  linked(repo: FullName, hex: string): Promise<boolean>;
  link(repo: FullName, hex: string): Promise<void>;
  /** Whether any repository of the owner holds the blob `hex`. */
  linkedByOwner(owner: string, hex: string): Promise<boolean>;
  /** Bytes held by an owner's repositories (each distinct blob once) and its open uploads. */
  ownerBytes(owner: string, uploads: readonly { info: UploadInfo }[]): Promise<number>;
  /** Stores bytes as a blob of the repository; returns their digest. */
  storeManifestBytes(repo: FullName, bytes: Uint8Array): Promise<string>;
  /** The upload's info, or undefined when it has none; an unreadable one fails. */
  readUploadInfo(id: string): Promise<UploadInfo | undefined>;
  writeUploadInfo(id: string, info: UploadInfo): Promise<void>;
  /** The ids of every upload with something stored, info or chunks. */
  uploadIds(): Promise<Set<string>>;
  /** Every open upload with its info (unreadable leftovers are the sweeper's). */
  openUploads(): Promise<{ id: string; info: UploadInfo }[]>;
  /** The keys of an upload's chunks, in order. */
  chunksOf(id: string): Promise<string[]>;
  removeUpload(id: string): Promise<void>;
}

export function createImageStorage(blobs: BlobStore): ImageStorage {
  const storage: ImageStorage = {
    linked: async (repo, hex) => (await blobs.stat(ociLinkKey(repo.owner, repo.name, hex))) !== undefined,
    async link(repo, hex) {
      await blobs.put(ociLinkKey(repo.owner, repo.name, hex), new Uint8Array());
    },
    async linkedByOwner(owner, hex) {
      for await (const key of blobs.list(ociOwnerLinksPrefix(owner)))
        if (key.endsWith(`/${hex}`)) return true;
      return false;
    },
    async ownerBytes(owner, uploads) {
      const seen = new Set<string>();
      let bytes = 0;
      for await (const key of blobs.list(ociOwnerLinksPrefix(owner))) {
        const hex = key.slice(key.lastIndexOf("/") + 1);
        if (seen.has(hex) || !/^[0-9a-f]{64}$/.test(hex)) continue;
        seen.add(hex);
        bytes += (await blobs.stat(contentKey(hex)))?.size ?? 0;
      }
      for (const u of uploads) if (u.info.repository.startsWith(`${owner}/`)) bytes += u.info.offset;
      return bytes;
    },
    async storeManifestBytes(repo, bytes) {
      const hex = createHash("sha256").update(bytes).digest("hex");
      if (!(await blobs.stat(contentKey(hex)))) await blobs.put(contentKey(hex), bytes);
      await storage.link(repo, hex);
      return `sha256:${hex}`;
    },
    async readUploadInfo(id) {
      let key: string;
      try {
        key = ociUploadInfoKey(id);
      } catch {
        return undefined; // An id no key can be made of names no upload.
      }
      if (!(await blobs.stat(key))) return undefined;
      return JSON.parse(Buffer.from(await readContent(blobs, key)).toString("utf8")) as UploadInfo;
    },
    async writeUploadInfo(id, info) {
      await blobs.put(ociUploadInfoKey(id), Buffer.from(JSON.stringify(info)));
    },
    async uploadIds() {
      const ids = new Set<string>();
      for await (const key of blobs.list(ociUploadsPrefix)) {
        const id = key.slice(ociUploadsPrefix.length).split("/")[0];
        if (id) ids.add(id);
      }
      return ids;
    },
    async openUploads() {
      const found: { id: string; info: UploadInfo }[] = [];
      for (const id of await storage.uploadIds()) {
        // Half-written or already removed: skipped.
        const info = await storage.readUploadInfo(id).catch(() => undefined);
        if (info) found.push({ id, info });
      }
      return found;
    },
    async chunksOf(id) {
      const keys: string[] = [];
      for await (const key of blobs.list(ociUploadPrefix(id))) if (!key.endsWith("/info")) keys.push(key);
      return keys.sort();
    },
    async removeUpload(id) {
      for await (const key of blobs.list(ociUploadPrefix(id))) await blobs.delete(key);
    },
  };
  return storage;
}
