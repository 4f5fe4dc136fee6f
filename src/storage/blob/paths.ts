// The only place that builds blob keys. Layout of a blob store (fs root or S3 bucket prefix):
//
//   sha256/
//     ab/
//       abcdef0123…        content-addressed bytes, named by the hex sha256 of their content:
//                          commit sources (.tar.gz), commit images (FileDescriptorSet), artifacts,
//                          plugin image blobs and manifests (OCI digests are sha256 of the same bytes)
//   oci/
//     links/
//       {owner}/{name}/
//         {hex}            empty: blob or manifest sha256:{hex} belongs to repository {owner}/{name}
//     uploads/
//       {uuid}/
//         info             JSON {repository, user, touchedAt, offset}: an upload in progress
//         {offset}         one received chunk, offset zero-padded to 16 digits
//                          (removed on completion or cancel, and after oci.uploadTtlMs when abandoned)
//   tmp/                   (fs driver only) in-flight writes, renamed into place when complete
//
// Keys use "/" separators, lowercase hex, and never contain "..".
import { sha256Hex } from "../../core/hashing.js";

export { sha256Hex };

const hexDigest = /^[0-9a-f]{64}$/;

/** Key of content whose hex sha256 is `hex`. */
export function contentKey(hex: string): string {
  if (!hexDigest.test(hex)) throw new Error(`not a sha256 hex digest: ${hex}`);
  return `sha256/${hex.slice(0, 2)}/${hex}`;
}

export const contentPrefix = "sha256/";

/** Presence key: content sha256:{hex} was pushed to (or mounted into) repository owner/name. */
export function ociLinkKey(owner: string, name: string, hex: string): string {
  if (!hexDigest.test(hex)) throw new Error(`not a sha256 hex digest: ${hex}`);
  return `oci/links/${owner}/${name}/${hex}`;
}

/** Prefix of every link of one owner's repositories (what counts toward its oci.ownerQuotaBytes). */
export const ociOwnerLinksPrefix = (owner: string) => `oci/links/${owner}/`;

const uploadIdPattern = /^[0-9a-f]{32}$/;
export const ociUploadsPrefix = "oci/uploads/";

/** Prefix of everything of one upload; `id` is 32 lowercase hex chars. */
export function ociUploadPrefix(id: string): string {
  if (!uploadIdPattern.test(id)) throw new Error(`not an upload id: ${id}`);
  return `${ociUploadsPrefix}${id}/`;
}

export const ociUploadInfoKey = (id: string) => `${ociUploadPrefix(id)}info`;
export const ociUploadChunkKey = (id: string, offset: number) =>
  `${ociUploadPrefix(id)}${String(offset).padStart(16, "0")}`;
