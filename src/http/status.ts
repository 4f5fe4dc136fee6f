// Domain error codes → HTTP statuses, shared by the plain-HTTP registries (each renders its own body).
import { Code } from "../core/errors.js";

export const httpStatus: Record<Code, number> = {
  [Code.InvalidArgument]: 400,
  [Code.Unauthenticated]: 401,
  [Code.PermissionDenied]: 403,
  [Code.NotFound]: 404,
  [Code.AlreadyExists]: 409,
  [Code.Gone]: 410,
  [Code.FailedPrecondition]: 412,
  // A request over a size or count limit. Not 429 (clients retry that) and not 507 (few clients know it);
  // generated output over a cap is Unprocessable instead, since the request itself is not too large.
  [Code.ResourceExhausted]: 413,
  [Code.Unprocessable]: 422,
  [Code.Internal]: 500,
  [Code.Unavailable]: 503,
  [Code.DeadlineExceeded]: 504,
  // The server's disk (or database) is full: the request was fine and may be repeated once space is freed.
  [Code.InsufficientStorage]: 507,
  // Over a rate limit (docs/tokens.md): Retry-After says when the window ends.
  [Code.TooManyRequests]: 429,
};

/** Retry-After sent with 507: a full disk is not freed in a second; a minute lets an administrator act. */
export const storageRetryAfterSeconds = 60;
