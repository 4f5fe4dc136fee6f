// A dynamically linked plugin as an image — node, its shared libraries and protoc-gen-es, built by buildah —
// generates the same TypeScript as the same protoc-gen-es run as a host command, which is what local buf generate
// writes (test/e2e/generate.test.ts holds the host plugin to that).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { cliOk } from "./support/cli.js";
import { adminToken, makeDataDir, repoRoot, startTestServer, type TestServer } from "./support/server.js";

const exec = promisify(execFile);

/** The shared libraries `ldd` names for a binary, the loader included. */
async function sharedLibraries(binary: string): Promise<string[]> {
  const { stdout } = await exec("ldd", [binary]);
  return [...stdout.matchAll(/(\/\S+) \(0x/g)].map((m) => m[1] ?? "").filter(Boolean);
}

describe("a dynamically linked plugin image (node + protoc-gen-es)", () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;
  let work: string;
  let env: Record<string, string>;

  before(async () => {
    data = await makeDataDir();
    work = await mkdtemp(join(tmpdir(), "protodepot-es-image-"));
    server = await startTestServer({ orgs: ["demo", "acme"], dataDir: data.dir });
    env = { PROTODEPOT_REMOTE: server.url, PROTODEPOT_TOKEN: adminToken, XDG_CONFIG_HOME: join(work, "cfg") };
    await cliOk(["push", join(repoRoot, "examples/money")], env);
  });
  after(async () => {
    await server.stop();
    await data.remove();
    await rm(work, { recursive: true, force: true });
  });

  it("built by buildah FROM scratch, it generates the host plugin's TypeScript byte for byte", {
    timeout: 300_000,
  }, async () => {
    const ctx = join(work, "ctx");
    const node = await realpath(process.execPath);
    for (const file of [node, ...(await sharedLibraries(node))]) {
      const real = await realpath(file);
      await mkdir(join(ctx, "root", dirname(file)), { recursive: true });
      await cp(real, join(ctx, "root", file));
    }
    // protoc-gen-es with what it resolves at run time, in the layout npm installed it.
    for (const pkg of [
      "@bufbuild/protoc-gen-es",
      "@bufbuild/protoplugin",
      "@bufbuild/protobuf",
      "@typescript/vfs",
    ]) {
      await cp(join(repoRoot, "node_modules", pkg), join(ctx, "root/app/node_modules", pkg), {
        recursive: true,
        dereference: true,
      });
    }
    const version = {
      default: JSON.parse(
        await readFile(join(repoRoot, "node_modules/@bufbuild/protoc-gen-es/package.json"), "utf8"),
      ) as { version: string },
    };
    await writeFile(
      join(ctx, "Containerfile"),
      [
        "FROM scratch",
        "COPY root/ /",
        'LABEL build.buf.plugins.runtime_library_versions.0.name="@bufbuild/protobuf"',
        `LABEL build.buf.plugins.runtime_library_versions.0.version="^${version.default.version}"`,
        `ENTRYPOINT ["${node}", "/app/node_modules/@bufbuild/protoc-gen-es/bin/protoc-gen-es"]`,
        "",
      ].join("\n"),
    );
    const store = [
      "--storage-driver",
      "vfs",
      "--root",
      join(work, "bstore"),
      "--runroot",
      join(work, "brun"),
    ];
    await exec("buildah", [...store, "bud", "--isolation", "chroot", "-t", "localhost/es:v2", ctx], {
      maxBuffer: 16 << 20,
    });
    await exec("buildah", [
      ...store,
      "push",
      "--tls-verify=false",
      "--creds",
      `admin:${adminToken}`,
      "localhost/es:v2",
      `docker://${new URL(server.url).host}/acme/es:v${version.default.version}`,
    ]);

    const listed = (await cliOk(["plugin", "version", "list", "acme/es"], env)).stdout;
    assert.match(
      listed,
      new RegExp(`npm:@bufbuild/protobuf@\\^${version.default.version.replaceAll(".", "\\.")}`),
    );
    await cliOk(
      [
        "template",
        "create",
        "acme/es",
        "--config",
        JSON.stringify({ plugins: [{ owner: "acme", name: "es", parameter: "target=ts" }] }),
      ],
      env,
    );
    await cliOk(
      [
        "template",
        "version",
        "create",
        "acme/es",
        "--config",
        JSON.stringify({
          plugin_versions: [{ owner: "acme", name: "es", version: `v${version.default.version}` }],
        }),
      ],
      env,
    );
    const fromImage = await fetch(`${server.url}/v1/acme/es/v1/demo/money/main.tar.gz`);
    const imageBytes = Buffer.from(await fromImage.arrayBuffer());
    assert.equal(fromImage.status, 200, imageBytes.toString());
    const fromHost = await fetch(`${server.url}/v1/protodepot/es/v1/demo/money/main.tar.gz`);
    assert.equal(fromHost.status, 200);
    assert.deepEqual(imageBytes, Buffer.from(await fromHost.arrayBuffer()));
  });
});
