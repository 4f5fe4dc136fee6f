// The wire code and status each refusal of the image service answers with, as the distribution spec names them.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { FastifyReply } from "fastify";
import { Code, RegistryError } from "../../core/errors.js";
import { ImageFailure } from "../../services/images.js";
import { ociError, renderError } from "./errors.js";

/** Renders an error into a captured reply: its status and the spec's code. */
function render(err: RegistryError): { status: number; code: string } {
  let status = 0;
  let body = "";
  const reply = {
    code(s: number) {
      status = s;
      return reply;
    },
    header: () => reply,
    type: () => reply,
    send(b: string) {
      body = b;
      return reply;
    },
  };
  renderError(reply as unknown as FastifyReply, err);
  const parsed = JSON.parse(body) as { errors: { code: string }[] };
  return { status, code: parsed.errors[0]?.code ?? "" };
}

const failing = (code: Code, failure: ImageFailure) =>
  new RegistryError(code, "refused", { reason: failure });

describe("OCI errors", () => {
  it("names each image failure with the spec's code and status", () => {
    const cases: [Code, ImageFailure, string, number][] = [
      [Code.InvalidArgument, ImageFailure.InvalidDigest, "DIGEST_INVALID", 400],
      [Code.InvalidArgument, ImageFailure.DigestMismatch, "DIGEST_INVALID", 400],
      [Code.InvalidArgument, ImageFailure.InvalidRepository, "NAME_INVALID", 400],
      [Code.NotFound, ImageFailure.UnknownRepository, "NAME_UNKNOWN", 404],
      [Code.NotFound, ImageFailure.UnknownUpload, "BLOB_UPLOAD_UNKNOWN", 404],
      [Code.FailedPrecondition, ImageFailure.UploadOutOfOrder, "BLOB_UPLOAD_INVALID", 416],
      [Code.ResourceExhausted, ImageFailure.TooLarge, "SIZE_INVALID", 413],
      [Code.ResourceExhausted, ImageFailure.OverQuota, "DENIED", 413],
      [Code.InvalidArgument, ImageFailure.InvalidTag, "TAG_INVALID", 400],
      [Code.AlreadyExists, ImageFailure.TagTaken, "DENIED", 409],
      [Code.InvalidArgument, ImageFailure.InvalidManifest, "MANIFEST_INVALID", 400],
      [Code.NotFound, ImageFailure.MissingBlob, "MANIFEST_BLOB_UNKNOWN", 400],
      [Code.NotFound, ImageFailure.MissingManifest, "MANIFEST_UNKNOWN", 404],
    ];
    assert.equal(cases.length, Object.values(ImageFailure).length, "every failure has a case");
    for (const [code, failure, wire, status] of cases) {
      assert.deepEqual(render(failing(code, failure)), { code: wire, status }, failure);
    }
  });

  it("keeps the codes handlers raise themselves, and falls back on the domain code", () => {
    assert.deepEqual(render(ociError(Code.NotFound, "BLOB_UNKNOWN", "no blob")), {
      code: "BLOB_UNKNOWN",
      status: 404,
    });
    assert.deepEqual(render(new RegistryError(Code.PermissionDenied, "no")), { code: "DENIED", status: 403 });
    assert.deepEqual(render(new RegistryError(Code.Unauthenticated, "who")), {
      code: "UNAUTHORIZED",
      status: 401,
    });
    const other = new RegistryError(Code.Internal, "corrupt", { reason: "COMMIT_BLOB_DAMAGED" });
    assert.deepEqual(render(other), { code: "UNKNOWN", status: 500 });
  });
});
