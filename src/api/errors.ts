// RegistryError → Connect error codes for the management API.
import { Code as ConnectCode, ConnectError, type Interceptor } from "@connectrpc/connect";
import { Code, RegistryError } from "../core/errors.js";

const codes: Record<Code, ConnectCode> = {
  [Code.InvalidArgument]: ConnectCode.InvalidArgument,
  [Code.NotFound]: ConnectCode.NotFound,
  [Code.AlreadyExists]: ConnectCode.AlreadyExists,
  [Code.PermissionDenied]: ConnectCode.PermissionDenied,
  [Code.Unauthenticated]: ConnectCode.Unauthenticated,
  [Code.FailedPrecondition]: ConnectCode.FailedPrecondition,
  [Code.ResourceExhausted]: ConnectCode.ResourceExhausted,
  [Code.Unprocessable]: ConnectCode.FailedPrecondition,
  [Code.DeadlineExceeded]: ConnectCode.DeadlineExceeded,
  [Code.Unavailable]: ConnectCode.Unavailable,
  [Code.Internal]: ConnectCode.Internal,
};

export function toConnectError(reason: unknown): ConnectError {
  if (reason instanceof ConnectError) return reason;
  const err = RegistryError.from(reason);
  const details = err.fields.details?.length ? `\n${err.fields.details.join("\n")}` : "";
  return new ConnectError(err.message + details, codes[err.code], undefined, undefined, err);
}

/** Every handler's failure leaves as a Connect error with a message the user can act on. */
export const errorInterceptor: Interceptor = (next) => async (req) => {
  try {
    return await next(req);
  } catch (reason) {
    throw toConnectError(reason);
  }
};
