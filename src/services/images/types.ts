// The shapes the image service and its parts share.
import type { PluginService } from "../plugins.js";

export interface ImageLimits {
  /** Largest blob (layer or config) accepted. */
  maxBlobBytes: number;
  /** Largest manifest or index accepted. */
  maxManifestBytes: number;
  /** Uploads untouched for this long are removed. */
  uploadTtlMs: number;
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

/** What the image service asks of plugins: who may read and push, and tags as plugin versions. */
export type ImagePlugins = Pick<
  PluginService,
  "findReadablePlugin" | "requireImageWrite" | "listPluginVersions" | "pushImageVersion"
>;
