// Owner quotas and per-user upload bounds over the /v2/ handlers (fastify.inject, real stores and quota service):
// refused before the bytes are kept, with 413 DENIED naming the quota and where it comes from (the oci.* default or
// the owner's own, set by an admin); cross-repository mounts count too.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import { registerRegistry } from "../../http/registry-plugin.js";
import { createAccessPolicy } from "../../services/access.js";
import type { Principal } from "../../services/auth.js";
import { createAuthService } from "../../services/auth.js";
import { createImageService, createImageUsage, type ImageService } from "../../services/images.js";
import { createPluginService } from "../../services/plugins.js";
import { createQuotas, type Quotas } from "../../services/quotas.js";
import { createFsBlobStore } from "../../storage/blob/fs/fs-blob-store.js";
import type { MetadataStore } from "../../storage/meta/metadata-store.js";
import { createSqliteMetadataStore } from "../../storage/meta/sqlite/sqlite-metadata-store.js";
import { ociRegistry } from "./routes.js";

const digestOf = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
const ttlMs = 60_000;
const root: Principal = { user: { id: "root", name: "root", isAdmin: true, createdAt: "" } };
const none = { modules: null, commitsPerDay: null, imageBytes: null, images: null };

describe("/v2/ quotas and upload bounds", () => {
  let dir: string;
  let meta: MetadataStore;
  let app: FastifyInstance;
  let images: ImageService;
  let quotas: Quotas;
  const auth: Record<string, string> = {};

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "protodepot-oci-quota-"));
    meta = await createSqliteMetadataStore({ path: join(dir, "meta.sqlite") });
    const blobs = await createFsBlobStore({ root: join(dir, "blobs"), fsync: false });
    const access = createAccessPolicy(meta, { anonymousRead: true });
    const plugins = createPluginService(meta, { access, defaultVisibility: "public" });
    const usage = createImageUsage({ blobs, meta });
    quotas = createQuotas({
      meta,
      access,
      defaults: {
        modulesPerOwner: 0,
        commitsPerOwnerPerDay: 0,
        imageBytesPerOwner: 10_000,
        imagesPerOwner: 2,
      },
      imageUsage: usage,
    });
    images = createImageService({
      blobs,
      plugins,
      limits: {
        maxBlobBytes: 1 << 20,
        maxManifestBytes: 64 << 10,
        uploadTtlMs: ttlMs,
        maxOpenUploadsPerUser: 2,
        maxOpenUploadBytesPerUser: 7_000,
      },
      quotas,
      usage,
    });
    const authService = createAuthService(meta);
    for (const name of ["bob", "carol", "dave"]) {
      const user = await meta.createUser({ name, isAdmin: false });
      const { secret } = await authService.issueToken(user.id, "test");
      auth[name] = `Basic ${Buffer.from(`${name}:${secret}`).toString("base64")}`;
    }
    app = Fastify();
    registerRegistry(app, authService, ociRegistry(images, { maxManifestBytes: 64 << 10 }));
    await app.ready();
  });
  after(async () => {
    await app.close();
    await meta.close();
    await rm(dir, { recursive: true, force: true });
  });

  const req = (user: string, method: string, url: string, body?: Buffer | string) =>
    app.inject({
      method: method as "GET",
      url,
      headers: { authorization: auth[user] ?? "", "content-type": "application/octet-stream" },
      ...(body !== undefined ? { payload: body } : {}),
    });
  const code = (res: { json(): unknown }) => (res.json() as { errors: { code: string }[] }).errors[0]?.code;
  const push = (user: string, repo: string, bytes: Buffer) =>
    req(user, "POST", `/v2/${repo}/blobs/uploads/?digest=${digestOf(bytes)}`, bytes);

  it("open uploads per user: a count and a byte bound, the refused chunk not kept", async () => {
    const a = String((await req("dave", "POST", "/v2/dave/uu/blobs/uploads/")).headers.location);
    const b = String((await req("dave", "POST", "/v2/dave/uu/blobs/uploads/")).headers.location);
    const third = await req("dave", "POST", "/v2/dave/uu/blobs/uploads/");
    assert.equal(third.statusCode, 413, third.body);
    assert.equal(code(third), "DENIED");
    assert.match(third.body, /2 open uploads \(oci\.maxOpenUploadsPerUser = 2\)/);
    assert.equal((await req("dave", "PATCH", a, Buffer.alloc(4_000))).statusCode, 202);
    const over = await req("dave", "PATCH", b, Buffer.alloc(3_500));
    assert.equal(over.statusCode, 413, over.body);
    assert.match(over.body, /oci\.maxOpenUploadBytesPerUser/);
    assert.equal((await req("dave", "GET", b)).headers.range, "0-0", "the refused chunk was not kept");
    assert.equal((await req("dave", "PATCH", b, Buffer.alloc(3_000))).statusCode, 202);
    // Cancelling frees both bounds; a sweep past the TTL frees them too.
    assert.equal((await req("dave", "DELETE", a)).statusCode, 204);
    assert.equal((await req("dave", "POST", "/v2/dave/uu/blobs/uploads/")).statusCode, 202);
    assert.equal(await images.sweepUploads(Date.now() + ttlMs + 1), 2);
    assert.equal((await req("dave", "POST", "/v2/dave/uu/blobs/uploads/")).statusCode, 202);
  });

  it("owner bytes: uploads and mounts past oci.ownerQuotaBytes are refused before they are stored", async () => {
    const big = Buffer.alloc(6_000, 1);
    assert.equal((await push("carol", "carol/one", big)).statusCode, 201);
    // The same blob in another repository of the same owner counts once.
    const again = await req(
      "carol",
      "POST",
      `/v2/carol/two/blobs/uploads/?mount=${digestOf(big)}&from=carol/one`,
    );
    assert.equal(again.statusCode, 201, again.body);
    const more = Buffer.alloc(5_000, 2);
    const refused = await push("carol", "carol/one", more);
    assert.equal(refused.statusCode, 413, refused.body);
    assert.equal(code(refused), "DENIED");
    assert.match(
      refused.body,
      /owner carol would exceed its image storage quota of 10000 bytes \(oci\.ownerQuotaBytes/,
    );
    assert.equal((await req("carol", "HEAD", `/v2/carol/one/blobs/${digestOf(more)}`)).statusCode, 404);
    // A mount from another owner's readable repository counts toward the mounting owner's quota.
    await meta.createPlugin({ owner: "carol", name: "one", visibility: "public" });
    assert.equal((await push("bob", "bob/src", more)).statusCode, 201);
    const mount = await req(
      "bob",
      "POST",
      `/v2/bob/dst/blobs/uploads/?mount=${digestOf(big)}&from=carol/one`,
    );
    assert.equal(mount.statusCode, 413, mount.body);
    assert.match(mount.body, /owner bob would exceed .* by mounting/);
    assert.equal((await req("bob", "HEAD", `/v2/bob/dst/blobs/${digestOf(big)}`)).statusCode, 404);
    const small = Buffer.alloc(1_000, 5);
    assert.equal((await push("carol", "carol/one", small)).statusCode, 201);
    const fits = await req(
      "bob",
      "POST",
      `/v2/bob/dst/blobs/uploads/?mount=${digestOf(small)}&from=carol/one`,
    );
    assert.equal(fits.statusCode, 201, fits.body);
  });

  it("owner images: tags past oci.ownerQuotaImages are refused", async () => {
    const put = async (tag: string) => {
      const layer = Buffer.from(`layer ${tag}`);
      const config = Buffer.from(JSON.stringify({ os: "linux", architecture: "amd64", config: {} }));
      for (const b of [layer, config]) assert.equal((await push("dave", "dave/img", b)).statusCode, 201);
      const manifest = JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: {
          mediaType: "application/vnd.oci.image.config.v1+json",
          digest: digestOf(config),
          size: config.length,
        },
        layers: [
          {
            mediaType: "application/vnd.oci.image.layer.v1.tar",
            digest: digestOf(layer),
            size: layer.length,
          },
        ],
      });
      return req("dave", "PUT", `/v2/dave/img/manifests/${tag}`, manifest);
    };
    assert.equal((await put("v1.0.0")).statusCode, 201);
    assert.equal((await put("v1.0.1")).statusCode, 201);
    assert.equal((await put("v1.0.1")).statusCode, 201, "pushing the same tag again adds no image");
    const third = await put("v1.0.2");
    assert.equal(third.statusCode, 413, third.body);
    assert.equal(code(third), "DENIED");
    assert.match(
      third.body,
      /dave already holds 2 plugin images, its quota \(oci\.ownerQuotaImages = 2, the server's default\)/,
    );

    // An admin's own quota for dave wins: one more fits, the next is refused naming it.
    await quotas.set(root, "dave", { ...none, images: 3 });
    assert.equal((await put("v1.0.2")).statusCode, 201);
    const fourth = await put("v1.0.3");
    assert.equal(fourth.statusCode, 413, fourth.body);
    assert.match(
      fourth.body,
      /dave already holds 3 plugin images, its quota \(3, set for dave by an admin\)/,
    );
    assert.match(fourth.body, /protodepot quota set dave --images N/);
    const report = await quotas.get(root, "dave");
    assert.deepEqual(report.images, { limit: 3, source: "owner", used: 3 });
    assert.equal(report.imageBytes.source, "default");
    assert.ok(report.imageBytes.used > 0, "dave's blobs and manifests count");
    // 0: unlimited.
    await quotas.set(root, "dave", { ...none, images: 0 });
    assert.equal((await put("v1.0.3")).statusCode, 201);
  });

  it("owner bytes: an admin's own quota for an owner wins over oci.ownerQuotaBytes, null follows it again", async () => {
    const used = (await quotas.get(root, "bob")).imageBytes;
    assert.deepEqual(used, { limit: 10_000, source: "default", used: 6_000 });
    await quotas.set(root, "bob", { ...none, imageBytes: 6_050 });
    const blob = Buffer.alloc(100, 7);
    const refused = await push("bob", "bob/src", blob);
    assert.equal(refused.statusCode, 413, refused.body);
    assert.equal(code(refused), "DENIED");
    assert.match(
      refused.body,
      /owner bob would exceed its image storage quota of 6050 bytes \(set for bob by an admin; 6000 in use/,
    );
    assert.match(refused.body, /protodepot quota set bob --image-bytes N/);
    assert.equal((await req("bob", "HEAD", `/v2/bob/src/blobs/${digestOf(blob)}`)).statusCode, 404);
    // Another owner still has the default.
    assert.equal((await push("carol", "carol/one", blob)).statusCode, 201);
    // Raised past the default: bob's refused blob and a mount the default would refuse both fit.
    await quotas.set(root, "bob", { ...none, imageBytes: 20_000 });
    assert.equal((await push("bob", "bob/src", blob)).statusCode, 201);
    const big = Buffer.alloc(6_000, 1);
    const mount = await req(
      "bob",
      "POST",
      `/v2/bob/src/blobs/uploads/?mount=${digestOf(big)}&from=carol/one`,
    );
    assert.equal(mount.statusCode, 201, mount.body);
    // Back to the default: 12100 in use, over it, so the next blob is refused as the default's.
    await quotas.set(root, "bob", none);
    const over = await push("bob", "bob/src", Buffer.alloc(10, 8));
    assert.equal(over.statusCode, 413, over.body);
    assert.match(
      over.body,
      /quota of 10000 bytes \(oci\.ownerQuotaBytes, the server's default; 12100 in use/,
    );
  });
});
