// Domain error codes → HTTP statuses, shared by the plain-HTTP registries (each renders its own body).
import { Code } from "../core/errors.js";

export const httpStatus: Record<Code, number> = {
  [Code.InvalidArgument]: 400,
  [Code.Unauthenticated]: 401,
  [Code.PermissionDenied]: 403,
  [Code.NotFound]: 404,
  [Code.AlreadyExists]: 409,
  [Code.FailedPrecondition]: 412,
  // Plain-HTTP registries meet this only when generated output passes a cap (pushes get their 413 before parsing).
  [Code.ResourceExhausted]: 507,
  [Code.Unprocessable]: 422,
  [Code.Internal]: 500,
  [Code.Unavailable]: 503,
  [Code.DeadlineExceeded]: 504,
};
