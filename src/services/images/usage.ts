// What an owner's plugin images use of their quotas (docs/quotas.md): the one count the /v2/ push checks and
// `protodepot quota get` reports.
import type { BlobStore } from "../../storage/blob/blob-store.js";
import type { PluginStore } from "../../storage/meta/metadata-store.js";
import { createImageStorage } from "./storage.js";

/** One image plugin version (a pushed tag) of an owner. */
export interface OwnerImage {
  plugin: string;
  version: string;
}

export interface ImageUsage {
  /** Distinct blobs and manifests linked into the owner's repositories, plus its open uploads. */
  bytes(owner: string): Promise<number>;
  /** The owner's image plugin versions; deleted plugins' are left out. */
  images(owner: string): Promise<OwnerImage[]>;
}

export function createImageUsage(o: {
  blobs: BlobStore;
  meta: Pick<PluginStore, "listPlugins" | "listPluginVersions">;
}): ImageUsage {
  const storage = createImageStorage(o.blobs);
  return {
    bytes: async (owner) => storage.ownerBytes(owner, await storage.openUploads()),
    async images(owner) {
      const held: OwnerImage[] = [];
      for (const p of await o.meta.listPlugins(owner)) {
        for (const v of await o.meta.listPluginVersions(p.owner, p.name)) {
          if (v.source.kind === "oci") held.push({ plugin: p.name, version: v.version });
        }
      }
      return held;
    },
  };
}
