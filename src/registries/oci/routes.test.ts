// The /v2/ handlers without sockets (fastify.inject) over real stores: uploads, manifests, tags, errors.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import { registerRegistry } from "../../http/registry-plugin.js";
import { createAccessPolicy } from "../../services/access.js";
import { createAuthService } from "../../services/auth.js";
import { createImageService, createImageUsage, type ImageService } from "../../services/images.js";
import { createPluginService } from "../../services/plugins.js";
import type { QuotaLimit } from "../../services/quotas.js";
import { createFsBlobStore } from "../../storage/blob/fs/fs-blob-store.js";
import type { MetadataStore } from "../../storage/meta/metadata-store.js";
import { createSqliteMetadataStore } from "../../storage/meta/sqlite/sqlite-metadata-store.js";
import { ociRegistry } from "./routes.js";

const digestOf = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
const ttlMs = 60_000;
const unlimited: QuotaLimit = { limit: 0, source: "default" };

describe("/v2/ handlers", () => {
  let dir: string;
  let meta: MetadataStore;
  let app: FastifyInstance;
  let images: ImageService;
  let auth = "";
  let other = "";

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "protodepot-oci-routes-"));
    meta = await createSqliteMetadataStore({ path: join(dir, "meta.sqlite") });
    const blobs = await createFsBlobStore({ root: join(dir, "blobs"), fsync: false });
    const access = createAccessPolicy(meta, { anonymousRead: true });
    const plugins = createPluginService(meta, { access, defaultVisibility: "public" });
    images = createImageService({
      blobs,
      plugins,
      limits: { maxBlobBytes: 1 << 20, maxManifestBytes: 64 << 10, uploadTtlMs: ttlMs },
      quotas: { imageLimits: async () => ({ bytes: unlimited, images: unlimited }) },
      usage: createImageUsage({ blobs, meta }),
    });
    const authService = createAuthService(meta);
    for (const name of ["acme", "eve"]) {
      const user = await meta.createUser({ name, isAdmin: false });
      const { secret } = await authService.issueToken(user.id, "test");
      const header = `Basic ${Buffer.from(`${name}:${secret}`).toString("base64")}`;
      if (name === "acme") auth = header;
      else other = header;
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

  const req = (method: string, url: string, body?: Buffer | string, headers: Record<string, string> = {}) =>
    app.inject({
      method: method as "GET",
      url,
      headers: { authorization: auth, ...headers },
      ...(body !== undefined ? { payload: body } : {}),
    });
  const code = (res: { json(): unknown }) => (res.json() as { errors: { code: string }[] }).errors[0]?.code;

  /** Uploads a blob in one monolithic POST. */
  const pushBlob = async (repo: string, bytes: Buffer) => {
    const res = await req("POST", `/v2/${repo}/blobs/uploads/?digest=${digestOf(bytes)}`, bytes, {
      "content-type": "application/octet-stream",
    });
    assert.equal(res.statusCode, 201, res.body);
    return digestOf(bytes);
  };

  /** A one-layer image; returns the manifest bytes (pushed blobs first). */
  const image = async (repo: string, opts: { mediaType?: boolean; labels?: Record<string, string> } = {}) => {
    const layer = Buffer.from(`layer of ${repo} ${Math.random()}`);
    const config = Buffer.from(
      JSON.stringify({ os: "linux", architecture: "amd64", config: { Labels: opts.labels } }),
    );
    const layerDigest = await pushBlob(repo, layer);
    const configDigest = await pushBlob(repo, config);
    return Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        ...(opts.mediaType === false ? {} : { mediaType: "application/vnd.oci.image.manifest.v1+json" }),
        config: {
          mediaType: "application/vnd.oci.image.config.v1+json",
          digest: configDigest,
          size: config.length,
        },
        layers: [
          { mediaType: "application/vnd.oci.image.layer.v1.tar", digest: layerDigest, size: layer.length },
        ],
      }),
    );
  };

  it("chunked upload: Content-Range in order, 416 out of order, status, final PUT with a body, digest verified", async () => {
    const blob = Buffer.from("0123456789abcdefghij");
    const start = await req("POST", "/v2/acme/pp/blobs/uploads/");
    assert.equal(start.statusCode, 202);
    assert.equal(start.headers.range, "0-0");
    const location = String(start.headers.location);
    assert.match(location, /^\/v2\/acme\/pp\/blobs\/uploads\/[0-9a-f]{32}$/);
    assert.equal(start.headers["docker-upload-uuid"], location.slice(location.lastIndexOf("/") + 1));

    const first = await req("PATCH", location, blob.subarray(0, 8), { "content-range": "0-7" });
    assert.equal(first.statusCode, 202, first.body);
    assert.equal(first.headers.range, "0-7");
    const outOfOrder = await req("PATCH", location, blob.subarray(12, 16), { "content-range": "12-15" });
    assert.equal(outOfOrder.statusCode, 416);
    assert.equal(code(outOfOrder), "BLOB_UPLOAD_INVALID");
    assert.equal(outOfOrder.headers.range, "0-7");
    // A streamed chunk without Content-Range or Content-Type continues where the upload is.
    const second = await req("PATCH", location, blob.subarray(8, 15));
    assert.equal(second.headers.range, "0-14");
    const status = await req("GET", location);
    assert.equal(status.statusCode, 204);
    assert.equal(status.headers.range, "0-14");

    const wrong = await req("PUT", `${location}?digest=${digestOf(Buffer.from("nope"))}`, blob.subarray(15));
    assert.equal(wrong.statusCode, 400);
    assert.equal(code(wrong), "DIGEST_INVALID");
    assert.equal(wrong.headers.range, "0-14", "the refused last chunk is not kept");
    const done = await req("PUT", `${location}?digest=${digestOf(blob)}`, blob.subarray(15));
    assert.equal(done.statusCode, 201, done.body);
    assert.equal(done.headers["docker-content-digest"], digestOf(blob));
    assert.equal(done.headers.location, `/v2/acme/pp/blobs/${digestOf(blob)}`);

    const head = await req("HEAD", `/v2/acme/pp/blobs/${digestOf(blob)}`);
    assert.equal(head.statusCode, 200);
    assert.equal(head.headers["content-length"], String(blob.length));
    const range = await req("GET", `/v2/acme/pp/blobs/${digestOf(blob)}`, undefined, { range: "bytes=5-9" });
    assert.equal(range.statusCode, 206);
    assert.equal(range.body, "56789");
    assert.equal(range.headers["content-range"], `bytes 5-9/${blob.length}`);
    assert.equal((await req("GET", location)).statusCode, 404, "a finished upload is gone");
    // The blob belongs to acme/p only.
    const elsewhere = await req("HEAD", `/v2/acme/qq/blobs/${digestOf(blob)}`);
    assert.equal(elsewhere.statusCode, 404);
  });

  it("final PUT: an out-of-order last chunk is 416 and not kept; the correct retry succeeds", async () => {
    const blob = Buffer.from("the quick brown fox jumps");
    const location = String((await req("POST", "/v2/acme/pp/blobs/uploads/")).headers.location);
    const first = await req("PATCH", location, blob.subarray(0, 10), { "content-range": "0-9" });
    assert.equal(first.statusCode, 202, first.body);
    const url = `${location}?digest=${digestOf(blob)}`;
    const gap = await req("PUT", url, blob.subarray(12), { "content-range": `12-${blob.length - 1}` });
    assert.equal(gap.statusCode, 416, gap.body);
    assert.equal(code(gap), "BLOB_UPLOAD_INVALID");
    assert.equal(gap.headers.range, "0-9");
    const overlap = await req("PUT", url, blob.subarray(5), { "content-range": `5-${blob.length - 1}` });
    assert.equal(overlap.statusCode, 416, overlap.body);
    assert.equal((await req("GET", location)).headers.range, "0-9", "nothing of the refused chunks stayed");
    const retry = await req("PUT", url, blob.subarray(10), { "content-range": `10-${blob.length - 1}` });
    assert.equal(retry.statusCode, 201, retry.body);
    const got = await req("GET", `/v2/acme/pp/blobs/${digestOf(blob)}`);
    assert.equal(got.body, blob.toString());
  });

  it("a manifest claiming wrong blob sizes is refused with MANIFEST_INVALID naming the blob", async () => {
    const manifest = JSON.parse((await image("acme/sz")).toString()) as {
      config: { size: number };
      layers: { digest: string; size: number }[];
    };
    const layer = manifest.layers[0];
    assert.ok(layer);
    const real = layer.size;
    for (const claimed of [real + 1, real - 1, 0]) {
      layer.size = claimed;
      const res = await req("PUT", "/v2/acme/sz/manifests/v1.0.0", JSON.stringify(manifest));
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(code(res), "MANIFEST_INVALID");
      assert.match(res.body, new RegExp(`layer blob ${layer.digest} is ${claimed} bytes, but it is ${real}`));
    }
    layer.size = real;
    manifest.config.size += 100;
    const config = await req("PUT", "/v2/acme/sz/manifests/v1.0.0", JSON.stringify(manifest));
    assert.equal(code(config), "MANIFEST_INVALID");
    assert.match(config.body, /config blob/);
    assert.equal((await req("GET", "/v2/acme/sz/manifests/v1.0.0")).statusCode, 404, "nothing was tagged");
  });

  it("cancel, and abandoned uploads removed after the TTL", async () => {
    const a = String((await req("POST", "/v2/acme/pp/blobs/uploads/")).headers.location);
    assert.equal((await req("DELETE", a)).statusCode, 204);
    const gone = await req("GET", a);
    assert.equal(gone.statusCode, 404);
    assert.equal(code(gone), "BLOB_UPLOAD_UNKNOWN");
    const b = String((await req("POST", "/v2/acme/pp/blobs/uploads/")).headers.location);
    await req("PATCH", b, Buffer.from("partial"));
    assert.equal(await images.sweepUploads(Date.now() + ttlMs / 2), 0, "young uploads stay");
    assert.equal(await images.sweepUploads(Date.now() + ttlMs + 1), 1);
    assert.equal((await req("GET", b)).statusCode, 404);
  });

  it("manifests: without top-level mediaType, by tag and by digest; unknown blobs and bad digests refused", async () => {
    const manifest = await image("acme/mm", { mediaType: false });
    const put = await req("PUT", "/v2/acme/mm/manifests/v1.0.0", manifest, {
      "content-type": "application/vnd.oci.image.manifest.v1+json",
    });
    assert.equal(put.statusCode, 201, put.body);
    assert.equal(put.headers["docker-content-digest"], digestOf(manifest));
    for (const ref of ["v1.0.0", digestOf(manifest)]) {
      const got = await req("GET", `/v2/acme/mm/manifests/${ref}`);
      assert.equal(got.statusCode, 200);
      assert.equal(got.headers["content-type"], "application/vnd.oci.image.manifest.v1+json");
      assert.equal(got.body, manifest.toString());
      const head = await req("HEAD", `/v2/acme/mm/manifests/${ref}`);
      assert.equal(head.headers["content-length"], String(manifest.length));
    }
    const missing = await req("GET", "/v2/acme/mm/manifests/v9.9.9");
    assert.equal(missing.statusCode, 404);
    assert.equal(code(missing), "MANIFEST_UNKNOWN");

    const dangling = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.docker.distribution.manifest.v2+json",
        config: {
          mediaType: "application/vnd.docker.container.image.v1+json",
          digest: digestOf(Buffer.from("x")),
          size: 1,
        },
        layers: [],
      }),
    );
    const unknown = await req("PUT", "/v2/acme/mm/manifests/v1.0.1", dangling);
    assert.equal(unknown.statusCode, 400);
    assert.equal(code(unknown), "MANIFEST_BLOB_UNKNOWN");
    const byWrongDigest = await req("PUT", `/v2/acme/mm/manifests/${digestOf(Buffer.from("y"))}`, manifest);
    assert.equal(code(byWrongDigest), "DIGEST_INVALID");
    const garbage = await req("PUT", "/v2/acme/mm/manifests/v1.0.2", Buffer.from("{not json"));
    assert.equal(code(garbage), "MANIFEST_INVALID");
  });

  it("an index picks linux/amd64 for its labels; an index without it is refused", async () => {
    const child = await image("acme/idx", {
      labels: {
        "build.buf.plugins.runtime_library_versions.0.name": "@bufbuild/protobuf",
        "build.buf.plugins.runtime_library_versions.0.version": "^2.2.0",
      },
    });
    const childPut = await req("PUT", `/v2/acme/idx/manifests/${digestOf(child)}`, child);
    assert.equal(childPut.statusCode, 201, childPut.body);
    const index = (platform: object) =>
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: "application/vnd.oci.image.index.v1+json",
          manifests: [
            {
              mediaType: "application/vnd.oci.image.manifest.v1+json",
              digest: digestOf(child),
              size: child.length,
              platform,
            },
          ],
        }),
      );
    const ok = await req(
      "PUT",
      "/v2/acme/idx/manifests/v2.0.0",
      index({ os: "linux", architecture: "amd64" }),
    );
    assert.equal(ok.statusCode, 201, ok.body);
    const got = await req("GET", "/v2/acme/idx/manifests/v2.0.0");
    assert.equal(got.headers["content-type"], "application/vnd.oci.image.index.v1+json");
    const versions = await meta.listPluginVersions("acme", "idx");
    assert.deepEqual(versions[0]?.runtimeLibraries, {
      npm: [{ package: "@bufbuild/protobuf", version: "^2.2.0" }],
    });
    const arm = await req(
      "PUT",
      "/v2/acme/idx/manifests/v2.0.1",
      index({ os: "linux", architecture: "arm64" }),
    );
    assert.equal(arm.statusCode, 400);
    assert.match(arm.body, /no linux\/amd64 image/);
  });

  it("tags/list pages with n and last, and a Link header to the next page", async () => {
    for (const tag of ["v1.0.0", "v1.1.0", "v1.2.0"]) {
      const m = await image("acme/tt");
      assert.equal((await req("PUT", `/v2/acme/tt/manifests/${tag}`, m)).statusCode, 201);
    }
    const all = await req("GET", "/v2/acme/tt/tags/list");
    assert.deepEqual(all.json(), { name: "acme/tt", tags: ["v1.0.0", "v1.1.0", "v1.2.0"] });
    const page = await req("GET", "/v2/acme/tt/tags/list?n=2");
    assert.deepEqual((page.json() as { tags: string[] }).tags, ["v1.0.0", "v1.1.0"]);
    assert.equal(page.headers.link, '</v2/acme/tt/tags/list?n=2&last=v1.1.0>; rel="next"');
    const next = await req("GET", "/v2/acme/tt/tags/list?n=2&last=v1.1.0");
    assert.deepEqual((next.json() as { tags: string[] }).tags, ["v1.2.0"]);
    assert.equal(next.headers.link, undefined);
  });

  it("cross-repository mount: 201 from a readable source, a normal 202 upload otherwise", async () => {
    const blob = Buffer.from("mount me");
    const digest = await pushBlob("acme/src", blob);
    const mounted = await req("POST", `/v2/acme/dst/blobs/uploads/?mount=${digest}&from=acme/src`);
    assert.equal(mounted.statusCode, 201);
    assert.equal(mounted.headers["docker-content-digest"], digest);
    assert.equal((await req("HEAD", `/v2/acme/dst/blobs/${digest}`)).statusCode, 200);
    const nowhere = await req("POST", `/v2/acme/dst2/blobs/uploads/?mount=${digest}&from=acme/absent`);
    assert.equal(nowhere.statusCode, 202);
  });

  it("writes under another owner are DENIED; deletes UNSUPPORTED; unknown paths in the spec's format", async () => {
    const denied = await app.inject({
      method: "POST",
      url: "/v2/acme/pp/blobs/uploads/",
      headers: { authorization: other },
    });
    assert.equal(denied.statusCode, 403);
    assert.equal(code(denied), "DENIED");
    const del = await req("DELETE", "/v2/acme/mm/manifests/v1.0.0");
    assert.equal(del.statusCode, 405);
    assert.equal(code(del), "UNSUPPORTED");
    const odd = await req("GET", "/v2/acme/mm/nothing");
    assert.equal(odd.statusCode, 404);
    assert.equal(code(odd), "NAME_UNKNOWN");
    const badName = await req("GET", "/v2/Acme_X/m/tags/list");
    assert.equal(badName.statusCode, 400);
    assert.equal(code(badName), "NAME_INVALID");
    const anonymous = await app.inject({ method: "HEAD", url: "/v2/acme/mm/manifests/v1.0.0" });
    assert.equal(anonymous.statusCode, 401);
    assert.equal(anonymous.headers["www-authenticate"], 'Basic realm="protodepot"');
  });
});
