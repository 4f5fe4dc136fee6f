// Why an image operation was refused, in domain words. The OCI handlers name each on the wire
// (registries/oci/errors.ts); the service never speaks the protocol's vocabulary.
import { Code, RegistryError } from "../../core/errors.js";
import { digestPattern } from "../../core/oci.js";

/** The `reason` field of the errors the image service throws. */
export enum ImageFailure {
  /** A digest that is not `sha256:` and 64 lowercase hex digits. */
  InvalidDigest = "image-invalid-digest",
  /** Bytes whose digest is not the one the client named. */
  DigestMismatch = "image-digest-mismatch",
  /** A repository name that is no OWNER/NAME. */
  InvalidRepository = "image-invalid-repository",
  /** A repository that does not exist, or that the caller may not read. */
  UnknownRepository = "image-unknown-repository",
  /** An upload that does not exist (finished, cancelled, expired, or of another repository). */
  UnknownUpload = "image-unknown-upload",
  /** A chunk that does not start where the upload ends. */
  UploadOutOfOrder = "image-upload-out-of-order",
  /** A blob or manifest over its size limit. */
  TooLarge = "image-too-large",
  /** Over an owner's or a user's quota. */
  OverQuota = "image-over-quota",
  /** A tag that is no valid tag, or no plugin version. */
  InvalidTag = "image-invalid-tag",
  /** A tag that names another image already: versions are immutable. */
  TagTaken = "image-tag-taken",
  /** A manifest or index that does not parse, or that a plugin cannot run. */
  InvalidManifest = "image-invalid-manifest",
  /** A blob a manifest names that was not pushed to the repository. */
  MissingBlob = "image-missing-blob",
  /** A manifest an index names that was not pushed to the repository. */
  MissingManifest = "image-missing-manifest",
}

const failures = new Set<string>(Object.values(ImageFailure));

export function isImageFailure(reason: string | undefined): reason is ImageFailure {
  return reason !== undefined && failures.has(reason);
}

export const imageError = (code: Code, failure: ImageFailure, message: string) =>
  new RegistryError(code, message, { reason: failure });

/** A quota or budget refusal; the message names the limit and where it comes from. */
export const quotaExceeded = (message: string) =>
  imageError(Code.ResourceExhausted, ImageFailure.OverQuota, message);

/** The hex of a `sha256:` digest; InvalidDigest for anything else. */
export function hexOf(digest: string): string {
  if (!digestPattern.test(digest)) {
    throw imageError(
      Code.InvalidArgument,
      ImageFailure.InvalidDigest,
      `invalid digest "${digest}": this registry takes sha256:<64 lowercase hex>`,
    );
  }
  return digest.slice("sha256:".length);
}
