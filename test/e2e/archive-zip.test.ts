// Every .tar.gz archive URL has a .zip beside it: the same files with the same contents (read back by Info-ZIP's
// unzip), and the same bytes after the artifact cache is wiped and the server restarted.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { readTarGz } from "../../src/packaging/tar.js";
import { wipeArtifacts } from "./support/cache.js";
import { cliOk } from "./support/cli.js";
import { adminToken, makeDataDir, repoRoot, startTestServer, type TestServer } from "./support/server.js";

const exec = promisify(execFile);
const scopes = ["", ".include_imports", ".include_imports_and_wkt"];

describe("zip archives", () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;
  let work: string;
  let port: string;
  const url = (suffix: string) => `${server.url}/v1/protodepot/es/v1/demo/payments/main${suffix}`;
  const download = async (suffix: string) => {
    const res = await fetch(url(suffix));
    assert.equal(res.status, 200, `${suffix}: ${await res.clone().text()}`);
    return { bytes: new Uint8Array(await res.arrayBuffer()), type: res.headers.get("content-type") };
  };

  before(async () => {
    data = await makeDataDir();
    work = await mkdtemp(join(tmpdir(), "protodepot-zip-"));
    server = await startTestServer({ dataDir: data.dir, orgs: ["demo"] });
    port = new URL(server.url).port;
    const env = {
      PROTODEPOT_REMOTE: server.url,
      PROTODEPOT_TOKEN: adminToken,
      XDG_CONFIG_HOME: join(work, "c"),
    };
    await cliOk(["push", join(repoRoot, "examples/money")], env);
    await cliOk(["push", join(repoRoot, "examples/payments")], env);
  });
  after(async () => {
    await server?.stop();
    await data?.remove();
    await rm(work, { recursive: true, force: true });
  });

  it("holds the tar.gz's files with the same contents, for every scope", async () => {
    for (const scope of scopes) {
      const tar = await readTarGz((await download(`${scope}.tar.gz`)).bytes);
      const zip = await download(`${scope}.zip`);
      assert.equal(zip.type, "application/zip");
      const path = join(work, `a${scope}.zip`);
      await writeFile(path, zip.bytes);
      await exec("unzip", ["-tq", path]);
      const listed = (await exec("unzip", ["-Z1", path])).stdout.trim().split("\n");
      assert.deepEqual(listed, tar.map((f) => f.path).sort(), scope);
      for (const file of tar) {
        const { stdout } = await exec("unzip", ["-p", path, file.path], { encoding: "buffer" });
        assert.deepEqual(stdout, Buffer.from(file.content), `${scope}: ${file.path}`);
      }
      if (scope === "") assert.deepEqual(listed, ["demo/payments/v1/payments_pb.ts"]);
    }
  });

  it("gives the same bytes after the cache is wiped", async () => {
    const before = await Promise.all(scopes.map((s) => download(`${s}.zip`)));
    await server.stop();
    assert.ok((await wipeArtifacts(data.dir)) >= 3);
    server = await startTestServer({ dataDir: data.dir, orgs: ["demo"], args: ["--port", port] });
    const again = await Promise.all(scopes.map((s) => download(`${s}.zip`)));
    for (const [i, scope] of scopes.entries()) {
      assert.deepEqual(Buffer.from(again[i]?.bytes ?? []), Buffer.from(before[i]?.bytes ?? []), scope);
    }
  });

  it("refuses a mistyped suffix naming both forms", async () => {
    const res = await fetch(url(".include_wkt.zip"));
    assert.equal(res.status, 400);
    assert.match(await res.text(), /\(or \.zip for each\)/);
  });
});
