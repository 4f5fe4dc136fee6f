// Upload state over the real fs blob store, with a fake of the write check: offsets, order, undo, digests, caps.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { Code, isRegistryError, RegistryError } from "../../core/errors.js";
import type { BlobStore } from "../../storage/blob/blob-store.js";
import { createFsBlobStore } from "../../storage/blob/fs/fs-blob-store.js";
import { contentKey } from "../../storage/blob/paths.js";
import type { Principal } from "../auth.js";
import type { QuotaLimit } from "../quotas.js";
import { ImageFailure } from "./failures.js";
import { createImageStorage } from "./storage.js";
import type { ImageLimits } from "./types.js";
import { createImageUploads } from "./uploads.js";

const ann: Principal = { user: { id: "u1", name: "ann", isAdmin: false, createdAt: "" }, roles: new Map() };
const repo = { owner: "acme", name: "gen" };
const other = { owner: "acme", name: "other" };
const bytes = (text: string) => Readable.from([Buffer.from(text)]);
const digestOf = (text: string) => `sha256:${createHash("sha256").update(text).digest("hex")}`;
const failsWith = (failure: ImageFailure) => (e: unknown) => {
  assert.ok(isRegistryError(e), String(e));
  assert.equal(e.fields.reason, failure, e.message);
  return true;
};

describe("image uploads", () => {
  let dir: string;
  let blobs: BlobStore;
  const unlimited: QuotaLimit = { limit: 0, source: "default" };
  const make = (
    limits: Partial<ImageLimits> = {},
    writers: readonly string[] = ["ann"],
    ownerBytes: () => QuotaLimit = () => unlimited,
  ) =>
    createImageUploads({
      blobs,
      storage: createImageStorage(blobs),
      limits: { maxBlobBytes: 1 << 20, maxManifestBytes: 1 << 16, uploadTtlMs: 60_000, ...limits },
      quotas: { imageLimits: async () => ({ bytes: ownerBytes(), images: unlimited }) },
      requireWrite: async (principal) => {
        if (!writers.includes(principal.user?.name ?? "")) {
          throw new RegistryError(Code.PermissionDenied, "may not push plugin images");
        }
      },
    });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "protodepot-uploads-"));
    blobs = await createFsBlobStore({ root: dir, fsync: false });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("counts chunks in order and refuses one that does not start at the offset, keeping nothing of it", async () => {
    const uploads = make();
    const { id } = await uploads.startUpload(ann, repo);
    assert.equal((await uploads.appendUpload(ann, repo, id, bytes("hello "), 0)).offset, 6);
    await assert.rejects(
      uploads.appendUpload(ann, repo, id, bytes("again"), 0),
      failsWith(ImageFailure.UploadOutOfOrder),
    );
    assert.equal((await uploads.uploadStatus(ann, repo, id)).offset, 6);
    assert.equal((await uploads.appendUpload(ann, repo, id, bytes("world"))).offset, 11);
    const stored = await uploads.finishUpload(ann, repo, id, digestOf("hello world"));
    assert.deepEqual(stored, { digest: digestOf("hello world"), size: 11 });
    assert.ok(await blobs.stat(contentKey(digestOf("hello world").slice(7))));
    // Finished uploads are gone.
    await assert.rejects(uploads.uploadStatus(ann, repo, id), failsWith(ImageFailure.UnknownUpload));
  });

  it("refuses a wrong digest, takes the last chunk back, and accepts the retry", async () => {
    const uploads = make();
    const { id } = await uploads.startUpload(ann, repo);
    await uploads.appendUpload(ann, repo, id, bytes("abc"));
    await assert.rejects(
      uploads.finishUpload(ann, repo, id, digestOf("abcdX"), bytes("de"), 3),
      failsWith(ImageFailure.DigestMismatch),
    );
    assert.equal((await uploads.uploadStatus(ann, repo, id)).offset, 3, "the refused last chunk stayed");
    await assert.rejects(
      uploads.finishUpload(ann, repo, id, "sha256:nothex", bytes("de"), 3),
      failsWith(ImageFailure.InvalidDigest),
    );
    assert.equal((await uploads.finishUpload(ann, repo, id, digestOf("abcde"), bytes("de"), 3)).size, 5);
  });

  it("answers an upload of another repository, or a made-up id, as unknown", async () => {
    const uploads = make();
    const { id } = await uploads.startUpload(ann, repo);
    await assert.rejects(uploads.uploadStatus(ann, other, id), failsWith(ImageFailure.UnknownUpload));
    await assert.rejects(uploads.uploadStatus(ann, repo, "../../etc"), failsWith(ImageFailure.UnknownUpload));
    await assert.rejects(uploads.cancelUpload(ann, other, id), failsWith(ImageFailure.UnknownUpload));
    await uploads.cancelUpload(ann, repo, id);
    await assert.rejects(uploads.uploadStatus(ann, repo, id), failsWith(ImageFailure.UnknownUpload));
  });

  it("checks the caller may push before touching an upload", async () => {
    const uploads = make({}, []);
    await assert.rejects(uploads.startUpload(ann, repo), (e) => isRegistryError(e, Code.PermissionDenied));
  });

  it("refuses a chunk past the blob size limit whole, and too many open uploads per user", async () => {
    const uploads = make({ maxBlobBytes: 8, maxOpenUploadsPerUser: 2 });
    const { id } = await uploads.startUpload(ann, repo);
    await uploads.appendUpload(ann, repo, id, bytes("12345"));
    await assert.rejects(uploads.appendUpload(ann, repo, id, bytes("6789")), (e) => {
      assert.ok(isRegistryError(e, Code.ResourceExhausted));
      assert.equal(e.fields.reason, ImageFailure.TooLarge);
      return true;
    });
    assert.equal((await uploads.uploadStatus(ann, repo, id)).offset, 5);
    // Earlier tests left uploads of ann open; the sweep below removes them, then two fit and a third does not.
    await uploads.sweepUploads(Date.now() + 120_000);
    await uploads.startUpload(ann, repo);
    await uploads.startUpload(ann, repo);
    await assert.rejects(uploads.startUpload(ann, repo), (e) => {
      assert.ok(isRegistryError(e, Code.ResourceExhausted));
      assert.equal(e.fields.reason, ImageFailure.OverQuota);
      assert.match(e.message, /oci\.maxOpenUploadsPerUser/);
      return true;
    });
  });

  it("sweeps only uploads untouched for longer than the TTL", async () => {
    const uploads = make({ uploadTtlMs: 60_000 });
    await uploads.sweepUploads(Date.now() + 120_000);
    const { id } = await uploads.startUpload(ann, repo);
    assert.equal(await uploads.sweepUploads(Date.now() + 30_000), 0);
    assert.equal((await uploads.uploadStatus(ann, repo, id)).offset, 0);
    assert.equal(await uploads.sweepUploads(Date.now() + 61_000), 1);
    await assert.rejects(uploads.uploadStatus(ann, repo, id), failsWith(ImageFailure.UnknownUpload));
  });

  it("caps chunks by the owner's image bytes as the quota service gives them, asked again for each chunk", async () => {
    let bytesLimit: QuotaLimit = { limit: 0, source: "default" };
    const uploads = make({}, ["ann"], () => bytesLimit);
    await uploads.sweepUploads(Date.now() + 120_000);
    const { id } = await uploads.startUpload(ann, { owner: "quota", name: "gen" });
    const quotaRepo = { owner: "quota", name: "gen" };
    bytesLimit = { limit: 4, source: "owner" };
    await assert.rejects(uploads.appendUpload(ann, quotaRepo, id, bytes("12345")), (e) => {
      assert.ok(isRegistryError(e, Code.ResourceExhausted));
      assert.equal(e.fields.reason, ImageFailure.OverQuota);
      assert.match(
        e.message,
        /owner quota would exceed its image storage quota of 4 bytes \(set for quota by an admin; 0 in use, open uploads included\).*protodepot quota set quota --image-bytes N/,
      );
      return true;
    });
    assert.equal(
      (await uploads.uploadStatus(ann, quotaRepo, id)).offset,
      0,
      "the refused chunk was not kept",
    );
    bytesLimit = { limit: 8, source: "default" };
    assert.equal((await uploads.appendUpload(ann, quotaRepo, id, bytes("12345"))).offset, 5);
    await assert.rejects(uploads.appendUpload(ann, quotaRepo, id, bytes("6789")), (e) => {
      assert.match(String(e), /quota of 8 bytes \(oci\.ownerQuotaBytes, the server's default; 5 in use/);
      return true;
    });
    bytesLimit = { limit: 0, source: "owner" };
    assert.equal((await uploads.appendUpload(ann, quotaRepo, id, bytes("6789"))).offset, 9, "0: unlimited");
  });
});
