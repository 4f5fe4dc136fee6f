// The owner's plugin image quotas as the /v2/ push meets them: limits from the quota service (an admin's own for the
// owner, else oci.ownerQuotaBytes / oci.ownerQuotaImages), refusals that say where the limit comes from.
import type { RegistryError } from "../../core/errors.js";
import type { QuotaLimit, Quotas } from "../quotas.js";
import { quotaExceeded } from "./failures.js";

/** What the image service asks of the quota service. */
export type ImageQuotas = Pick<Quotas, "imageLimits">;

/** How to get more: an admin's own quota for the owner. */
const raise = (owner: string, flag: string) =>
  `ask an admin to raise it ('protodepot quota set ${owner} ${flag} N')`;

/** Adding bytes (an upload, a mount, a manifest) would take the owner past its image storage quota. */
export function overImageBytes(
  owner: string,
  bound: QuotaLimit,
  used: number,
  detail: { openUploads?: boolean; mounting?: string } = {},
): RegistryError {
  const from =
    bound.source === "owner" ? `set for ${owner} by an admin` : "oci.ownerQuotaBytes, the server's default";
  const usage = `${used} in use${detail.openUploads ? ", open uploads included" : ""}`;
  const how = detail.mounting ? ` by mounting ${detail.mounting}` : "";
  return quotaExceeded(
    `owner ${owner} would exceed its image storage quota of ${bound.limit} bytes (${from}; ${usage})${how}: ` +
      `remove unused plugin images, or ${raise(owner, "--image-bytes")}`,
  );
}

/** A new tag would take the owner past its quota of image plugin versions. */
export function overImages(owner: string, bound: QuotaLimit, held: number): RegistryError {
  const quota =
    bound.source === "owner"
      ? `${bound.limit}, set for ${owner} by an admin`
      : `oci.ownerQuotaImages = ${bound.limit}, the server's default`;
  return quotaExceeded(
    `owner ${owner} already holds ${held} plugin images, its quota (${quota}): remove unused plugin versions, ` +
      `or ${raise(owner, "--images")}`,
  );
}
