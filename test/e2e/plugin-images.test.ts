// Plugin images end to end: owners push plugin images with real clients; the server runs them in the sandbox.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { cliOk } from "./support/cli.js";
import { goHost, goOk, makeGoEnv, writeConsumer } from "./support/go.js";
import { type BuiltImage, buildImage, staticBinaryImage, writeLayout } from "./support/oci-image.js";
import { adminToken, makeDataDir, repoRoot, startTestServer, type TestServer } from "./support/server.js";

const exec = promisify(execFile);

/** Paths under `dir` whose name matches. */
async function named(dir: string, pattern: RegExp): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.filter((e) => pattern.test(e.slice(e.lastIndexOf("/") + 1)));
}
const protocGenGo = "/usr/bin/protoc-gen-go";
const goLabels = {
  "build.buf.plugins.runtime_library_versions.0.name": "google.golang.org/protobuf",
  "build.buf.plugins.runtime_library_versions.0.version": "v1.28.1",
};

/** A client that pushes an image around protoc-gen-go with goLabels to `repo:tag`, as its user would. */
interface PushClient {
  name: string;
  push(
    ctx: { server: TestServer; work: string; user: string; token: string },
    repo: string,
    tag: string,
  ): Promise<void>;
}

const skopeo: PushClient = {
  name: "skopeo",
  async push({ server, work, user, token }, repo, tag) {
    const layout = join(work, `layout-${repo.replace("/", "-")}`);
    await writeLayout(layout, await staticBinaryImage(protocGenGo, goLabels), tag);
    await exec("skopeo", [
      "copy",
      "--dest-tls-verify=false",
      "--dest-creds",
      `${user}:${token}`,
      `oci:${layout}:${tag}`,
      `docker://${new URL(server.url).host}/${repo}:${tag}`,
    ]);
  },
};

const buildah: PushClient = {
  name: "buildah",
  async push({ server, work, user, token }, repo, tag) {
    const ctx = join(work, `buildah-${repo.replace("/", "-")}`);
    await mkdir(ctx, { recursive: true });
    await copyFile(protocGenGo, join(ctx, "protoc-gen-go"));
    await chmod(join(ctx, "protoc-gen-go"), 0o755);
    const labels = Object.entries(goLabels)
      .map(([k, v]) => `LABEL ${k}="${v}"`)
      .join("\n");
    await writeFile(
      join(ctx, "Containerfile"),
      `FROM scratch\nCOPY protoc-gen-go /usr/bin/protoc-gen-go\n${labels}\nENTRYPOINT ["/usr/bin/protoc-gen-go"]\n`,
    );
    // A private store for this test: vfs needs no kernel overlay, chroot isolation needs no engine.
    const store = [
      "--storage-driver",
      "vfs",
      "--root",
      join(work, "bstore"),
      "--runroot",
      join(work, "brun"),
    ];
    const local = `localhost/${repo.replace("/", "-")}:${tag}`;
    await exec("buildah", [...store, "bud", "--isolation", "chroot", "-t", local, ctx], {
      maxBuffer: 16 << 20,
    });
    await exec("buildah", [
      ...store,
      "push",
      "--tls-verify=false",
      "--creds",
      `${user}:${token}`,
      local,
      `docker://${new URL(server.url).host}/${repo}:${tag}`,
    ]);
  },
};

/** Teams without container tooling: the CLI builds the image itself. */
const cliPush: PushClient = {
  name: "cli",
  async push({ server, work, token }, repo, tag) {
    const env = {
      PROTODEPOT_REMOTE: server.url,
      PROTODEPOT_TOKEN: token,
      XDG_CONFIG_HOME: join(work, "cli-cfg"),
    };
    const args = ["--binary", protocGenGo, "--runtime-lib", "go:google.golang.org/protobuf@v1.28.1"];
    const out = await cliOk(["plugin", "push", `${repo}:${tag}`, ...args], env);
    assert.match(out.stdout, new RegExp(`pushed ${repo}:${tag} \\(sha256:[0-9a-f]{64}\\)`));
  },
};

describe("plugin images through /v2/", () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;
  let work: string;
  let admin: Record<string, string>;
  let aliceToken = "";
  let bobToken = "";
  let rootfsDir = "";

  const v2 = (path: string, token: string | undefined, init: RequestInit = {}) =>
    fetch(`${server.url}/v2/${path}`, {
      ...init,
      headers: {
        ...(token ? { authorization: `Basic ${Buffer.from(`u:${token}`).toString("base64")}` } : {}),
        ...(init.headers as Record<string, string> | undefined),
      },
    });

  before(async () => {
    data = await makeDataDir();
    work = await mkdtemp(join(tmpdir(), "protodepot-images-"));
    // The data directory is 0700, out of reach of the sandbox's user: roots are cached in the temp dir instead.
    rootfsDir = join(
      tmpdir(),
      `protodepot-rootfs-${createHash("sha256").update(data.dir).digest("hex").slice(0, 16)}`,
    );
    server = await startTestServer({
      orgs: ["demo"],
      dataDir: data.dir,
      env: { PROTODEPOT_OCI_MAX_UNPACKED_BYTES: String(32 << 20) },
    });
    admin = {
      PROTODEPOT_REMOTE: server.url,
      PROTODEPOT_TOKEN: adminToken,
      XDG_CONFIG_HOME: join(work, "cfg"),
    };
    await cliOk(["push", join(repoRoot, "examples/money")], admin);
    for (const name of ["alice", "bob"]) {
      await cliOk(["user", "create", name], admin);
      const token = (await cliOk(["token", "create", "--user", name], admin)).stdout.trim();
      if (name === "alice") aliceToken = token;
      else bobToken = token;
    }
  });
  after(async () => {
    await server.stop();
    // The temp-dir cache of unpacked roots goes with the server.
    assert.equal(existsSync(rootfsDir), false, `${rootfsDir} is left behind`);
    await data.remove();
    await rm(work, { recursive: true, force: true });
  });

  /** The shared scenario: push, list, generate through a template, compare with the host plugin, go get. */
  const scenario = (client: PushClient) => async () => {
    const plugin = `alice/go-${client.name}`;
    await client.push({ server, work, user: "alice", token: aliceToken }, plugin, "v1.28.1");

    const alice = { ...admin, PROTODEPOT_TOKEN: aliceToken };
    const listed = (await cliOk(["plugin", "version", "list", plugin], alice)).stdout;
    assert.match(
      listed,
      /v1\.28\.1\s+image sha256:[0-9a-f]{64}\s+go:google\.golang\.org\/protobuf@v1\.28\.1/,
    );

    const name = `go-${client.name}`;
    await cliOk(
      [
        "template",
        "create",
        `alice/${name}`,
        "--config",
        JSON.stringify({ plugins: [{ owner: "alice", name, parameter: "paths=source_relative" }] }),
      ],
      alice,
    );
    await cliOk(
      [
        "template",
        "version",
        "create",
        `alice/${name}`,
        "--config",
        JSON.stringify({ plugin_versions: [{ owner: "alice", name, version: "v1.28.1" }] }),
      ],
      alice,
    );
    const fromImage = await fetch(`${server.url}/v1/alice/${name}/v1/demo/money/main.tar.gz`);
    const imageBytes = Buffer.from(await fromImage.arrayBuffer());
    assert.equal(fromImage.status, 200, imageBytes.toString());
    // The built-in template runs the very same binary as a host command with the same parameter.
    const fromHost = await fetch(`${server.url}/v1/protodepot/go/v1/demo/money/main.tar.gz`);
    assert.equal(fromHost.status, 200);
    assert.deepEqual(imageBytes, Buffer.from(await fromHost.arrayBuffer()), "byte-identical archives");

    const go = await makeGoEnv(join(work, `go-${client.name}`), server.url);
    const consumer = join(work, `consumer-${client.name}`);
    const module = `${goHost}/alice/${name}/demo/money`;
    await writeConsumer(
      consumer,
      `package main\n\nimport (\n\t"fmt"\n\n\tmoneyv1 "${module}/demo/money/v1"\n)\n\nfunc main() {\n\tfmt.Println((&moneyv1.Money{CurrencyCode: "EUR", Units: 3}).GetUnits())\n}\n`,
    );
    const inConsumer = { cwd: consumer, env: go.env };
    await goOk(["get", `${module}@latest`], inConsumer);
    const run = await goOk(["run", "."], inConsumer);
    assert.equal(run.stdout.trim(), "3");
  };

  for (const client of [skopeo, buildah, cliPush]) {
    it(
      `${client.name}: a pushed protoc-gen-go image generates the host plugin's bytes, and go get builds`,
      {
        timeout: 300_000,
      },
      scenario(client),
    );
  }

  it("docker login succeeds with a token, and fails with a wrong one", async () => {
    const config = join(work, "docker");
    const login = () =>
      exec(
        "docker",
        ["--config", config, "login", new URL(server.url).host, "--username", "alice", "--password-stdin"],
        { env: { ...process.env, DOCKER_CONFIG: config } },
      );
    const ok = login();
    ok.child.stdin?.end(aliceToken);
    assert.match((await ok).stdout, /Login Succeeded/);
    const bad = login();
    bad.child.stdin?.end("pd_wrong");
    await assert.rejects(bad, /401|unauthorized|Unauthorized/i);
  });

  it("every endpoint challenges anonymous callers with 401 and WWW-Authenticate: Basic", async () => {
    for (const [method, path] of [
      ["GET", ""],
      ["HEAD", `alice/go-skopeo/manifests/v1.28.1`],
      ["GET", `alice/go-skopeo/tags/list`],
      ["HEAD", `alice/go-skopeo/blobs/sha256:${"0".repeat(64)}`],
      ["POST", `alice/go-skopeo/blobs/uploads/`],
    ] as const) {
      const res = await v2(path, undefined, { method });
      assert.equal(res.status, 401, `${method} /v2/${path}`);
      assert.match(res.headers.get("www-authenticate") ?? "", /^Basic realm=/);
      assert.equal(res.headers.get("docker-distribution-api-version"), "registry/2.0");
    }
  });

  it("private plugins: outsiders can neither pull (it answers as missing) nor push", async () => {
    const alice = { ...admin, PROTODEPOT_TOKEN: aliceToken };
    await cliOk(["plugin", "create", "alice/secret", "--visibility", "private"], alice);
    await skopeo.push({ server, work, user: "alice", token: aliceToken }, "alice/secret", "v1.0.0");
    const mine = await v2("alice/secret/manifests/v1.0.0", aliceToken);
    assert.equal(mine.status, 200);
    const digest = mine.headers.get("docker-content-digest") ?? "";

    const hidden = await v2("alice/secret/manifests/v1.0.0", bobToken);
    const missing = await v2("alice/nothing-here/manifests/v1.0.0", bobToken);
    assert.equal(hidden.status, 404);
    assert.deepEqual(await hidden.json(), {
      errors: [{ code: "NAME_UNKNOWN", message: "repository alice/secret does not exist", detail: {} }],
    });
    assert.equal(missing.status, 404);
    assert.equal((await v2("alice/secret/tags/list", bobToken)).status, 404);
    const manifest = JSON.parse(await mine.text()) as { layers: { digest: string }[] };
    assert.equal((await v2(`alice/secret/blobs/${manifest.layers[0]?.digest}`, bobToken)).status, 404);
    assert.equal((await v2(`alice/secret/manifests/${digest}`, bobToken)).status, 404);

    // Bob may not push under alice, nor mount her private blob into his own repository.
    const push = await v2("alice/secret/blobs/uploads/", bobToken, { method: "POST" });
    assert.equal(push.status, 403);
    assert.equal(((await push.json()) as { errors: { code: string }[] }).errors[0]?.code, "DENIED");
    const mount = await v2(
      `bob/stolen/blobs/uploads/?mount=${manifest.layers[0]?.digest}&from=alice/secret`,
      bobToken,
      { method: "POST" },
    );
    assert.equal(mount.status, 202, "a mount from an unreadable repository is a normal upload");
    // Bob's skopeo push of the same name is refused too.
    await assert.rejects(
      skopeo.push({ server, work, user: "bob", token: bobToken }, "alice/secret", "v1.0.1"),
      /denied|403|may not/i,
    );
  });

  it("a tag is immutable: the same digest again is accepted, another digest refused; tags must be semver", async () => {
    const image = await staticBinaryImage(protocGenGo, goLabels);
    await pushDirect(image, "alice/immutable", "v1.0.0");
    await pushDirect(image, "alice/immutable", "v1.0.0");
    const other = await buildImage({
      layers: [[{ name: "x", content: "other" }]],
      entrypoint: ["/x"],
    });
    const refused = await pushDirect(other, "alice/immutable", "v1.0.0", false);
    assert.equal(refused.status, 409);
    assert.match(await refused.text(), /immutable/);
    const notSemver = await pushDirect(other, "alice/immutable", "latest", false);
    assert.equal(notSemver.status, 400);
    assert.match(await notSemver.text(), /TAG_INVALID[\s\S]*semver/);
  });

  /** Pushes blobs (monolithic POST) and the manifest with fetch; returns the manifest response. */
  async function pushDirect(image: BuiltImage, repo: string, tag: string, expectOk = true) {
    for (const [digest, bytes] of image.blobs) {
      const res = await v2(`${repo}/blobs/uploads/?digest=${digest}`, aliceToken, {
        method: "POST",
        body: bytes,
        headers: { "content-type": "application/octet-stream" },
      });
      assert.equal(res.status, 201, await res.text());
    }
    const res = await v2(`${repo}/manifests/${tag}`, aliceToken, {
      method: "PUT",
      body: image.manifest,
      headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
    });
    if (expectOk) assert.equal(res.status, 201, await res.text());
    return res;
  }

  /** Pushes a hostile image with skopeo, uses it in a template, and returns the archive's answer. */
  const runHostile = async (name: string, layers: Parameters<typeof buildImage>[0]["layers"]) => {
    const image = await buildImage({ layers, entrypoint: ["/usr/bin/protoc-gen-go"] });
    const layout = join(work, `hostile-${name}`);
    await writeLayout(layout, image, "v1.0.0");
    await exec("skopeo", [
      "copy",
      "--dest-tls-verify=false",
      "--dest-creds",
      `alice:${aliceToken}`,
      `oci:${layout}:v1.0.0`,
      `docker://${new URL(server.url).host}/alice/${name}:v1.0.0`,
    ]);
    const alice = { ...admin, PROTODEPOT_TOKEN: aliceToken };
    await cliOk(
      [
        "template",
        "create",
        `alice/${name}`,
        "--config",
        JSON.stringify({ plugins: [{ owner: "alice", name }] }),
      ],
      alice,
    );
    await cliOk(
      [
        "template",
        "version",
        "create",
        `alice/${name}`,
        "--config",
        JSON.stringify({ plugin_versions: [{ owner: "alice", name, version: "v1.0.0" }] }),
      ],
      alice,
    );
    const res = await fetch(`${server.url}/v1/alice/${name}/v1/demo/money/main.tar.gz`);
    return { status: res.status, body: await res.text() };
  };

  it("hostile images are contained with a clear error, nothing written outside the cache", async () => {
    const cases: [string, Parameters<typeof buildImage>[0]["layers"], RegExp][] = [
      ["dotdot", [[{ name: "../../escaped", content: "x" }]], /climbs out of the image root/],
      ["absolute", [[{ name: "/etc/escaped", content: "x" }]], /absolute name/],
      [
        "hardlink",
        [
          [
            { name: "up", type: "symlink", linkname: "/" },
            { name: "h", type: "link", linkname: "up/etc/passwd" },
          ],
        ],
        /up\/etc does not exist in the image/,
      ],
      ["whiteout-root", [[{ name: ".wh..", content: "" }]], /whites out/],
      ["too-big", [[{ name: "big", content: Buffer.alloc(40 << 20) }]], /expands to more than/],
    ];
    for (const [name, layers, message] of cases) {
      const { status, body } = await runHostile(name, layers);
      assert.equal(status, 412, `${name}: ${body}`);
      assert.match(body, message, name);
      assert.match(body, new RegExp(`alice/${name}:v1\\.0\\.0`));
    }
    // A symlink escape is resolved inside the root: the file lands in the image, the run fails to find a binary.
    const symlink = await runHostile("symlink", [
      [
        { name: "out", type: "symlink", linkname: `../../../../../../../..${work}` },
        { name: "out/escaped-by-symlink", content: "x" },
      ],
    ]);
    assert.equal(symlink.status, 500, symlink.body);
    assert.deepEqual(await named(work, /escaped/), []);
    // It is inside the cached root of that image, and nowhere else.
    assert.deepEqual(await named(data.dir, /escaped/), []);
    const landed = await named(rootfsDir, /escaped/);
    assert.equal(landed.length, 1);
    assert.match(landed[0] ?? "", /^[0-9a-f]{64}\/tmp\//);
    assert.equal(existsSync("/etc/escaped"), false);
  });

  it("a manifest over the size cap is refused before it is parsed", async () => {
    const res = await v2("alice/huge/manifests/v1.0.0", aliceToken, {
      method: "PUT",
      body: Buffer.alloc(5 << 20, 0x20),
      headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
    });
    assert.equal(res.status, 413);
    assert.match(await res.text(), /SIZE_INVALID/);
  });

  it("a wrong token is 401 everywhere, /v2/ included", async () => {
    const res = await v2("", "pd_not-a-token");
    assert.equal(res.status, 401);
    assert.match(res.headers.get("www-authenticate") ?? "", /^Basic/);
  });
});
