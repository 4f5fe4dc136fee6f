// The one domain error of protodepot. Protocols map `code` to their wire format in their own errors.ts.

export enum Code {
  InvalidArgument = "invalid_argument",
  NotFound = "not_found",
  AlreadyExists = "already_exists",
  PermissionDenied = "permission_denied",
  Unauthenticated = "unauthenticated",
  FailedPrecondition = "failed_precondition",
  ResourceExhausted = "resource_exhausted",
  /** The input was understood but could not be processed, e.g. a plugin reported an error. */
  Unprocessable = "unprocessable",
  DeadlineExceeded = "deadline_exceeded",
  Unavailable = "unavailable",
  Internal = "internal",
}

export interface ErrorFields {
  op?: string;
  owner?: string;
  module?: string;
  ref?: string;
  plugin?: string;
  template?: string;
  /** A finer reason a protocol may name on the wire, e.g. an OCI error code such as `BLOB_UNKNOWN`. */
  reason?: string;
  /** Extra lines of detail (e.g. compiler errors, one per line). */
  details?: readonly string[];
}

const errorName = "RegistryError";

export class RegistryError extends Error {
  override readonly name = errorName;
  readonly code: Code;
  readonly fields: ErrorFields;

  constructor(code: Code, message: string, fields: ErrorFields = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.fields = fields;
  }

  /** Wraps anything thrown into a RegistryError, keeping a RegistryError as it is. */
  static from(reason: unknown, fallback: Code = Code.Internal): RegistryError {
    if (isRegistryError(reason)) return reason;
    if (reason instanceof Error) return new RegistryError(fallback, reason.message, {}, { cause: reason });
    return new RegistryError(fallback, String(reason));
  }
}

/** Checks by name and shape, not instanceof, so errors from another copy of this module are recognized. */
export function isRegistryError(reason: unknown, code?: Code): reason is RegistryError {
  if (typeof reason !== "object" || reason === null) return false;
  const r = reason as { name?: unknown; code?: unknown };
  if (r.name !== errorName || typeof r.code !== "string") return false;
  return code === undefined || r.code === code;
}

export const notFound = (message: string, fields?: ErrorFields) =>
  new RegistryError(Code.NotFound, message, fields);
export const invalidArgument = (message: string, fields?: ErrorFields) =>
  new RegistryError(Code.InvalidArgument, message, fields);
