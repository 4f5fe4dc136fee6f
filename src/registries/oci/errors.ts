// Errors of the OCI Distribution API: `{"errors":[{"code":"MANIFEST_UNKNOWN","message":…}]}` with the spec's codes.
import type { FastifyReply } from "fastify";
import { Code, RegistryError } from "../../core/errors.js";
import { httpStatus } from "../../http/status.js";
import { ImageFailure, isImageFailure } from "../../services/images.js";

/** The spec's error codes, with the status each answers with when the domain code does not decide it. */
const reasons: Record<string, number | undefined> = {
  BLOB_UNKNOWN: 404,
  BLOB_UPLOAD_INVALID: 416,
  BLOB_UPLOAD_UNKNOWN: 404,
  DIGEST_INVALID: 400,
  MANIFEST_BLOB_UNKNOWN: 400,
  MANIFEST_INVALID: 400,
  MANIFEST_UNKNOWN: 404,
  NAME_INVALID: 400,
  NAME_UNKNOWN: 404,
  SIZE_INVALID: undefined,
  TAG_INVALID: 400,
  UNAUTHORIZED: 401,
  DENIED: undefined,
  UNSUPPORTED: 405,
  TOOMANYREQUESTS: 429,
};

/** The spec's name for each refusal of the image service. */
const failureCodes: Record<ImageFailure, string> = {
  [ImageFailure.InvalidDigest]: "DIGEST_INVALID",
  [ImageFailure.DigestMismatch]: "DIGEST_INVALID",
  [ImageFailure.InvalidRepository]: "NAME_INVALID",
  [ImageFailure.UnknownRepository]: "NAME_UNKNOWN",
  [ImageFailure.UnknownUpload]: "BLOB_UPLOAD_UNKNOWN",
  [ImageFailure.UploadOutOfOrder]: "BLOB_UPLOAD_INVALID",
  [ImageFailure.TooLarge]: "SIZE_INVALID",
  [ImageFailure.OverQuota]: "DENIED",
  [ImageFailure.InvalidTag]: "TAG_INVALID",
  [ImageFailure.TagTaken]: "DENIED",
  [ImageFailure.InvalidManifest]: "MANIFEST_INVALID",
  [ImageFailure.MissingBlob]: "MANIFEST_BLOB_UNKNOWN",
  [ImageFailure.MissingManifest]: "MANIFEST_UNKNOWN",
};

function wireCode(err: RegistryError): string {
  const reason = err.fields.reason;
  if (isImageFailure(reason)) return failureCodes[reason];
  // Refusals the OCI handlers raise themselves carry the spec's code already (ociError).
  if (reason && reason in reasons) return reason;
  switch (err.code) {
    case Code.Unauthenticated:
      return "UNAUTHORIZED";
    case Code.PermissionDenied:
    case Code.AlreadyExists:
      return "DENIED";
    case Code.NotFound:
      return "NAME_UNKNOWN";
    case Code.InvalidArgument:
      return "MANIFEST_INVALID";
    case Code.ResourceExhausted:
      return "SIZE_INVALID";
    default:
      return "UNKNOWN";
  }
}

export const realm = 'Basic realm="protodepot"';

export function renderError(reply: FastifyReply, err: RegistryError): FastifyReply {
  const code = wireCode(err);
  let status = reasons[code] ?? httpStatus[err.code];
  if (code === "SIZE_INVALID" && err.code === Code.ResourceExhausted) status = 413;
  if (status === 401) reply.header("www-authenticate", realm);
  const detail = err.fields.details?.length ? { details: err.fields.details } : {};
  return reply
    .code(status)
    .header("cache-control", "no-store")
    .type("application/json; charset=utf-8")
    .send(JSON.stringify({ errors: [{ code, message: err.message, detail }] }));
}

export const ociError = (code: Code, reason: string, message: string) =>
  new RegistryError(code, message, { reason });
