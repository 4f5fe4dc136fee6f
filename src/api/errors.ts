// RegistryError → Connect error codes for the management API.
import { Code as ConnectCode, ConnectError, type Interceptor } from "@connectrpc/connect";
import { Code, RegistryError } from "../core/errors.js";
import { storageRetryAfterSeconds } from "../http/status.js";
import { quotaReason } from "../services/quotas.js";

/**
 * Marks a resource_exhausted that means "used up, for now or for good" (an owner's quota, a rate limit): guards.ts
 * leaves it Connect's 429 (the API's other resource_exhausted are size limits, 413) and drops the mark.
 */
export const limitMarker = "x-protodepot-limit";

const codes: Record<Code, ConnectCode> = {
  [Code.InvalidArgument]: ConnectCode.InvalidArgument,
  [Code.NotFound]: ConnectCode.NotFound,
  // Connect has no "gone"; not NotFound either, or clients would offer to create the name again (buf push --create).
  [Code.Gone]: ConnectCode.FailedPrecondition,
  [Code.AlreadyExists]: ConnectCode.AlreadyExists,
  [Code.PermissionDenied]: ConnectCode.PermissionDenied,
  [Code.Unauthenticated]: ConnectCode.Unauthenticated,
  [Code.FailedPrecondition]: ConnectCode.FailedPrecondition,
  [Code.ResourceExhausted]: ConnectCode.ResourceExhausted,
  [Code.Unprocessable]: ConnectCode.FailedPrecondition,
  [Code.DeadlineExceeded]: ConnectCode.DeadlineExceeded,
  [Code.Unavailable]: ConnectCode.Unavailable,
  [Code.Internal]: ConnectCode.Internal,
  // gRPC's own example of resource_exhausted is "the entire file system is out of space"; guards.ts answers 507.
  [Code.InsufficientStorage]: ConnectCode.ResourceExhausted,
  // Connect answers resource_exhausted with HTTP 429.
  [Code.TooManyRequests]: ConnectCode.ResourceExhausted,
};

/**
 * Marks a Connect error that stands for Gone: Connect has no such code, so withClientStatuses (guards.ts) turns the
 * marked answer's HTTP status into 410 for plain HTTP clients and drops the mark; Connect clients read the body's code.
 */
export const goneMarker = "x-protodepot-gone";

export function toConnectError(reason: unknown): ConnectError {
  if (reason instanceof ConnectError) return reason;
  const err = RegistryError.from(reason);
  const details = err.fields.details?.length ? `\n${err.fields.details.join("\n")}` : "";
  // Retry-After marks the storage case apart from a request over a size limit (withClientStatuses: 507, not 413).
  // Quotas and rate limits are marked to keep Connect's 429, a rate limit with its own Retry-After.
  const metadata: Record<string, string> =
    err.code === Code.InsufficientStorage
      ? { "retry-after": String(storageRetryAfterSeconds) }
      : err.code === Code.ResourceExhausted && err.fields.reason === quotaReason
        ? { [limitMarker]: "quota" }
        : err.code === Code.TooManyRequests
          ? {
              [limitMarker]: "rate",
              ...(err.fields.retryAfterSeconds
                ? { "retry-after": String(err.fields.retryAfterSeconds) }
                : {}),
            }
          : err.code === Code.Gone
            ? { [goneMarker]: "1" }
            : {};
  return new ConnectError(err.message + details, codes[err.code], metadata, undefined, err);
}

/** Every handler's failure leaves as a Connect error with a message the user can act on. */
export const errorInterceptor: Interceptor = (next) => async (req) => {
  try {
    return await next(req);
  } catch (reason) {
    throw toConnectError(reason);
  }
};
