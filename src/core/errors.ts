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
  /** A write failed for lack of space (disk, quota, database): retry once an administrator has freed some. */
  InsufficientStorage = "insufficient_storage",
  /** The thing was deleted; its name stays reserved (quarantined) so nobody else can take it. */
  Gone = "gone",
  /** The caller is over a rate limit (docs/tokens.md): retry after the window, `retryAfterSeconds` in `fields`. */
  TooManyRequests = "too_many_requests",
}

export interface ErrorFields {
  op?: string;
  owner?: string;
  module?: string;
  ref?: string;
  plugin?: string;
  template?: string;
  /**
   * A finer reason a protocol may name on the wire: a domain reason such as the image service's ImageFailure
   * (registries/oci/errors.ts names it `DIGEST_INVALID`, …), or a protocol's own code raised by its handlers.
   */
  reason?: string;
  /** Extra lines of detail (e.g. compiler errors, one per line). */
  details?: readonly string[];
  /** With TooManyRequests: seconds until the caller may try again (the Retry-After header). */
  retryAfterSeconds?: number;
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
    if (isStorageFull(reason)) return storageFull(reason);
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

/** Driver errors that mean "no space left", whichever store raised them (nothing here does I/O). */
const fullCodes = new Set([
  "ENOSPC", // no space left on device (fs blob store, temp files)
  "EDQUOT", // disk quota exceeded
  "SQLITE_FULL", // better-sqlite3: "database or disk is full"
  "53100", // PostgreSQL disk_full
]);
const fullNames = new Set(["QuotaExceeded", "XMinioStorageFull", "InsufficientStorage"]);

/** True when `reason` (or an error it wraps) says a store has no space left. */
export function isStorageFull(reason: unknown): boolean {
  let current: unknown = reason;
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    const e = current as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown };
    if (typeof e.code === "string" && fullCodes.has(e.code)) return true;
    if (typeof e.name === "string" && fullNames.has(e.name)) return true;
    if (typeof e.message === "string" && e.message.includes("database or disk is full")) return true;
    current = e.cause;
  }
  return false;
}

/** The answer to any write that failed for lack of space: what happened and what to do, never the path. */
export const storageFull = (cause?: unknown) =>
  new RegistryError(
    Code.InsufficientStorage,
    "the server's storage is full: nothing was written; try again later (an administrator must free space)",
    {},
    { cause },
  );
