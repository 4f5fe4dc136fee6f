// e2e: exclusive — times /healthz (under 100 ms) while hostile images unpack
// Hostile plugin images pushed by an ordinary user, used by his public template and triggered anonymously: each
// is refused at push or contained at unpack with a clear 4xx naming the plugin, nothing of a failure is cached,
// the counted disk use of what is unpacked matches du, and /healthz (polled from another process) stays fast.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { cliOk } from "./support/cli.js";
import { pollHealthz } from "./support/healthz-poller.js";
import {
  type BuiltImage,
  buildImage,
  directoryBombLayer,
  type ImageSpec,
  trailingDataLayer,
} from "./support/oci-image.js";
import { adminToken, makeDataDir, repoRoot, startTestServer, type TestServer } from "./support/server.js";

const protocGenGo = "/usr/bin/protoc-gen-go";
const maxUnpacked = 64 << 20;
/** What protoc-gen-go images declare; a Go plugin is given its M options only with it. */
const goLabels = {
  "build.buf.plugins.runtime_library_versions.0.name": "google.golang.org/protobuf",
  "build.buf.plugins.runtime_library_versions.0.version": "v1.28.1",
};
const ownerQuota = 64 << 20;

/** The slowest answer after a warm-up of three samples (the poller's own first fetches set up its connection). */
const slowest = (times: number[]) => Math.max(0, ...times.slice(3));

describe("hostile plugin images", () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;
  let work: string;
  let rootfsDir: string;
  let bob: Record<string, string>;
  let bobToken = "";
  let goBinary: Buffer;

  const v2 = (path: string, init: RequestInit = {}) =>
    fetch(`${server.url}/v2/${path}`, {
      ...init,
      headers: {
        authorization: `Basic ${Buffer.from(`bob:${bobToken}`).toString("base64")}`,
        ...(init.headers as Record<string, string> | undefined),
      },
    });

  before(async () => {
    data = await makeDataDir();
    work = await mkdtemp(join(tmpdir(), "protodepot-hostile-images-"));
    // The data directory is 0700, out of reach of the sandbox's user: roots are cached in the temp dir instead.
    rootfsDir = join(
      tmpdir(),
      `protodepot-rootfs-${createHash("sha256").update(data.dir).digest("hex").slice(0, 16)}`,
    );
    server = await startTestServer({
      orgs: ["demo"],
      dataDir: data.dir,
      env: {
        PROTODEPOT_OCI_MAX_UNPACKED_BYTES: String(maxUnpacked),
        PROTODEPOT_OCI_OWNER_QUOTA_BYTES: String(ownerQuota),
        PROTODEPOT_OCI_MAX_OPEN_UPLOADS_PER_USER: "3",
      },
    });
    const admin = {
      PROTODEPOT_REMOTE: server.url,
      PROTODEPOT_TOKEN: adminToken,
      XDG_CONFIG_HOME: join(work, "a"),
    };
    await cliOk(["push", join(repoRoot, "examples/money")], admin);
    await cliOk(["user", "create", "bob"], admin);
    bobToken = (await cliOk(["token", "create", "--user", "bob"], admin)).stdout.trim();
    bob = { ...admin, PROTODEPOT_TOKEN: bobToken, XDG_CONFIG_HOME: join(work, "b") };
    goBinary = await readFile(protocGenGo);
  });
  after(async () => {
    await server.stop();
    await data.remove();
    await rm(work, { recursive: true, force: true });
  });

  /** Pushes blobs (monolithic POST) and the manifest as bob; returns the manifest answer. */
  async function push(image: BuiltImage, repo: string, tag: string, manifest = image.manifest) {
    for (const [digest, bytes] of image.blobs) {
      const res = await v2(`${repo}/blobs/uploads/?digest=${digest}`, {
        method: "POST",
        body: bytes,
        headers: { "content-type": "application/octet-stream" },
      });
      assert.equal(res.status, 201, await res.text());
    }
    const res = await v2(`${repo}/manifests/${tag}`, {
      method: "PUT",
      body: manifest,
      headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
    });
    return { status: res.status, body: await res.text() };
  }

  /** An image running protoc-gen-go, with extra layers below it. */
  const goImage = (layers: ImageSpec["layers"], labels: Record<string, string> = goLabels) =>
    buildImage({
      layers: [...layers, [{ name: "usr/bin/protoc-gen-go", content: goBinary, mode: 0o755 }]],
      entrypoint: ["/usr/bin/protoc-gen-go"],
      labels,
    });

  /** bob's public template over bob/NAME:v1.0.0; returns its anonymous archive URL. */
  async function template(name: string) {
    await cliOk(
      [
        "template",
        "create",
        `bob/${name}`,
        "--config",
        JSON.stringify({ plugins: [{ owner: "bob", name, parameter: "paths=source_relative" }] }),
      ],
      bob,
    );
    await cliOk(
      [
        "template",
        "version",
        "create",
        `bob/${name}`,
        "--config",
        JSON.stringify({ plugin_versions: [{ owner: "bob", name, version: "v1.0.0" }] }),
      ],
      bob,
    );
    return `${server.url}/v1/bob/${name}/v1/demo/money/main.tar.gz`;
  }

  /** Anonymous GET while /healthz is polled from another process. */
  async function anonymously(url: string) {
    const poller = pollHealthz(server.url);
    // Its first answers come once the poller's own process is up: only then is the attack sent.
    await poller.sampled(3);
    const answer = await fetch(url).then(
      async (res) => ({ status: res.status, body: await res.text() }),
      (err: unknown) => ({ status: 0, body: `${String(err)} ${String((err as { cause?: unknown }).cause)}` }),
    );
    const times = await poller.stop();
    return { ...answer, healthzMs: slowest(times) };
  }

  const rootOf = (image: BuiltImage) => join(rootfsDir, image.manifestDigest.slice("sha256:".length));
  const du = (path: string) =>
    Number(execFileSync("du", ["-s", "-B1", path], { encoding: "utf8" }).split("\t")[0]);
  const leftovers = () => readdirSync(rootfsDir).filter((n) => n.startsWith("tmp-"));

  it("a directory bomb past the cap: 412 naming the plugin, nothing cached, healthz fast", async () => {
    // 120,000 empty directories: a few MB of gzip, 490 MB on disk; the cap is 64 MiB.
    const image = await goImage([directoryBombLayer(120_000)]);
    assert.equal((await push(image, "bob/dirbomb", "v1.0.0")).status, 201);
    const url = await template("dirbomb");
    for (let attempt = 0; attempt < 2; attempt++) {
      const { status, body, healthzMs } = await anonymously(url);
      assert.equal(status, 412, body);
      assert.match(
        body,
        /plugin bob\/dirbomb:v1\.0\.0: its image cannot be unpacked: the image expands to more than 67108864 bytes on disk/,
      );
      assert.ok(healthzMs < 100, `healthz took ${healthzMs.toFixed(1)} ms during the unpack`);
      assert.equal(existsSync(rootOf(image)), false, "no root is cached");
      assert.deepEqual(leftovers(), [], "no half-unpacked root is left");
    }
  });

  it("a directory bomb under the cap: served, and the cache counts it as du does (within 10 %)", async () => {
    const image = await goImage([directoryBombLayer(10_000)]);
    assert.equal((await push(image, "bob/dirs", "v1.0.0")).status, 201);
    const { status, body, healthzMs } = await anonymously(await template("dirs"));
    assert.equal(status, 200, body);
    assert.ok(healthzMs < 100, `healthz took ${healthzMs.toFixed(1)} ms during the unpack`);
    const counted = Number(readFileSync(`${rootOf(image)}.size`, "utf8"));
    const measured = du(rootOf(image));
    assert.ok(measured > 10_000 * 4096, `du ${measured}`);
    assert.ok(Math.abs(counted - measured) <= measured * 0.1, `counted ${counted}, du ${measured}`);
  });

  it("data after the tar end is never inflated: 256 MiB of trailing zeros behind a valid layer still runs", async () => {
    // Were the trailing zeros inflated, they would pass oci.maxUnpackedBytes (64 MiB of tar stream) and fail.
    const layer = await trailingDataLayer([{ name: "etc/motd", content: "hi" }], 256 << 20);
    assert.ok(layer.length < 8 << 20, `the layer is ${layer.length} bytes`);
    const image = await goImage([layer]);
    assert.equal((await push(image, "bob/trailing", "v1.0.0")).status, 201);
    const { status, body, healthzMs } = await anonymously(await template("trailing"));
    assert.equal(status, 200, body);
    assert.ok(healthzMs < 100, `healthz took ${healthzMs.toFixed(1)} ms during the unpack`);
    assert.ok(Number(readFileSync(`${rootOf(image)}.size`, "utf8")) < 16 << 20);
  });

  it("a manifest claiming wrong blob sizes is refused at push, naming the blob", async () => {
    const image = await goImage([[{ name: "etc/x", content: "x" }]]);
    const doc = JSON.parse(image.manifest.toString()) as { layers: { digest: string; size: number }[] };
    const layer = doc.layers[0];
    assert.ok(layer);
    const real = layer.size;
    layer.size = real + 4096;
    const { status, body } = await push(image, "bob/sizes", "v1.0.0", Buffer.from(JSON.stringify(doc)));
    assert.equal(status, 400, body);
    assert.match(body, /MANIFEST_INVALID/);
    assert.match(body, new RegExp(`layer blob ${layer.digest} is ${real + 4096} bytes, but it is ${real}`));
    assert.equal((await v2("bob/sizes/manifests/v1.0.0")).status, 404, "nothing was tagged");
  });

  it("a label injecting lines into consumers' go.mod is refused at push, naming the label", async () => {
    const image = await goImage([], {
      "build.buf.plugins.runtime_library_versions.0.name":
        "google.golang.org/protobuf v1.28.1\n)\ngo 1.99\nreplace google.golang.org/protobuf => example.com/evil",
      "build.buf.plugins.runtime_library_versions.0.version": "v1.28.1",
    });
    const { status, body } = await push(image, "bob/gomod", "v1.0.0");
    assert.equal(status, 400, body);
    assert.match(
      body,
      /image label build\.buf\.plugins\.runtime_library_versions\.0\.name is .*go runtime library's name/,
    );
    const version = await push(
      await goImage([], {
        "build.buf.plugins.runtime_library_versions.0.name": "google.golang.org/protobuf",
        "build.buf.plugins.runtime_library_versions.0.version": "v1.28.1\ngo 1.99",
      }),
      "bob/gomod",
      "v1.0.0",
    );
    assert.equal(version.status, 400, version.body);
    assert.match(version.body, /runtime_library_versions\.0\.version is .*go runtime library's version/);
    assert.equal((await v2("bob/gomod/manifests/v1.0.0")).status, 404, "no plugin version was made");
  });

  // The refused monolithic upload is answered before its body is read: the answer ends the connection, so the
  // requests after it go over a new one (the old one, no longer read, hung them until the idle timeout).
  it("the owner's image quota and the open-upload bound: 413 DENIED naming the limit, before bytes are kept", async () => {
    const big = randomBytes(ownerQuota);
    const digest = `sha256:${createHash("sha256").update(big).digest("hex")}`;
    const res = await v2(`bob/big/blobs/uploads/?digest=${digest}`, {
      method: "POST",
      body: big,
      headers: { "content-type": "application/octet-stream" },
    });
    const body = await res.text();
    assert.equal(res.status, 413, body);
    assert.equal(res.headers.get("connection"), "close");
    assert.match(
      body,
      /DENIED.*owner bob would exceed its image storage quota of 67108864 bytes \(oci\.ownerQuotaBytes/,
    );
    assert.equal((await v2(`bob/big/blobs/${digest}`, { method: "HEAD" })).status, 404);

    const open: string[] = [];
    for (let i = 0; i < 3; i++) {
      const started = await v2("bob/uploads/blobs/uploads/", { method: "POST" });
      assert.equal(started.status, 202, await started.text());
      open.push(String(started.headers.get("location")));
    }
    const fourth = await v2("bob/uploads/blobs/uploads/", { method: "POST" });
    assert.equal(fourth.status, 413);
    assert.match(await fourth.text(), /bob already has 3 open uploads \(oci\.maxOpenUploadsPerUser = 3\)/);
    for (const location of open) {
      assert.equal(
        (
          await fetch(`${server.url}${location}`, {
            method: "DELETE",
            headers: { authorization: `Bearer ${bobToken}` },
          })
        ).status,
        204,
      );
    }
    assert.equal(
      (await v2("bob/uploads/blobs/uploads/", { method: "POST" })).status,
      202,
      "cancelling frees the bound",
    );
  });
});
