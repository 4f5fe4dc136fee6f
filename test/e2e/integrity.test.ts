// Every stored byte is checked when read (a rule of docs/architecture.md): a flipped byte in an artifact, a commit's
// sources and a commit's image, on the fs and the S3 driver. The artifact comes back byte for byte (regenerated from
// its commit), the commit's blobs answer a clear error naming the commit, never corrupt bytes with a 200; `fsck`
// reports each, and `--repair` fixes the artifacts. Also: a generation with no files is an error, never kept.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import SQLite from "better-sqlite3";
import { contentKey } from "../../src/storage/blob/paths.js";
import { createS3BlobStore } from "../../src/storage/blob/s3/s3-blob-store.js";
import { createTestBucket, s3Variable, skipWithout, testS3 } from "../../src/storage/testing/services.js";
import { cliOk, runCli } from "./support/cli.js";
import { counter } from "./support/metrics.js";
import { adminToken, makeDataDir, repoRoot, startTestServer, type TestServer } from "./support/server.js";

/** Where a scenario's blobs live, and how to damage one behind the server's back. */
interface Storage {
  env: Record<string, string>;
  flip(key: string): Promise<void>;
  close(): Promise<void>;
}

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const flipped = (b: Uint8Array) => {
  const out = Buffer.from(b);
  out[out.length >> 1] = (out[out.length >> 1] ?? 0) ^ 0x01;
  return out;
};

const paths = {
  artifact: "/v1/protodepot/es/v1/demo/money/main.tar.gz",
  npm: "/npm/@protodepot/protodepot_es_demo_money/-/protodepot_es_demo_money-1.1.1.tgz",
  sources: "/demo/payments/archive/main.tar.gz",
  coldArtifact: "/v1/protodepot/es/v1/demo/payments/main.tar.gz",
};

interface FsckJson {
  corrupt: { key: string; usedBy: string[]; repaired?: string }[];
  unrepaired: number;
}

function scenario(
  name: string,
  open: (dataDir: string) => Promise<Storage>,
  extra?: (s: () => TestServer) => void,
) {
  describe(`integrity on ${name}`, () => {
    let data: Awaited<ReturnType<typeof makeDataDir>>;
    let storage: Storage;
    let server: TestServer;
    const good = new Map<string, Buffer>();
    const keys = { artifact: "", npm: "", sources: "", image: "" };

    const get = async (path: string) => {
      const res = await fetch(server.url + path);
      return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
    };
    const fsck = async (...args: string[]) => {
      const res = await runCli(["fsck", "--data", data.dir, "--json", ...args], storage.env);
      assert.ok(res.code === 0 || res.code === 1, res.stderr);
      return { code: res.code, report: JSON.parse(res.stdout) as FsckJson };
    };
    const corruptKeys = (r: FsckJson) => r.corrupt.map((c) => c.key).sort();

    before(async () => {
      data = await makeDataDir("protodepot-integrity-");
      storage = await open(data.dir);
      server = await startTestServer({ dataDir: data.dir, env: storage.env, orgs: ["demo"] });
      const env = { PROTODEPOT_REMOTE: server.url, PROTODEPOT_TOKEN: adminToken };
      for (const m of ["money", "payments"]) await cliOk(["push", join(repoRoot, "examples", m)], env);
      for (const kind of ["artifact", "npm", "sources"] as const) {
        const res = await get(paths[kind]);
        assert.equal(res.status, 200, res.body.toString());
        good.set(kind, res.body);
        keys[kind] = contentKey(sha256(res.body));
      }
      await server.stop();
      // The image is read by generations only: its key from the metadata, as fsck would find it.
      const db = new SQLite(join(data.dir, "metadata.sqlite"), { readonly: true });
      const row = db
        .prepare(
          "select c.image_blob as image from commits c join modules m on m.id = c.module_id where m.name = 'payments'",
        )
        .get() as { image: string };
      db.close();
      keys.image = row.image;
      for (const key of Object.values(keys)) await storage.flip(key);
      server = await startTestServer({ dataDir: data.dir, env: storage.env });
    });
    after(async () => {
      await server?.stop();
      await storage?.close();
      await data?.remove();
    });

    it("regenerates a damaged artifact in the very request that finds it: the same bytes, counted", async () => {
      const res = await get(paths.artifact);
      assert.equal(res.status, 200, res.body.toString());
      assert.ok(res.body.equals(good.get("artifact") ?? Buffer.alloc(0)), "the original bytes, regenerated");
      assert.equal(await counter(server, "protodepot_blob_corrupt_total"), 1);
      const again = await get(paths.artifact);
      assert.ok(again.body.equals(res.body));
    });

    it("answers a damaged sources archive with a 500 naming the commit, never the bytes", async () => {
      const res = await get(paths.sources);
      assert.equal(res.status, 500);
      assert.match(res.body.toString(), /sources of demo\/payments commit [0-9a-f]{32} are corrupt/);
    });

    it("refuses to generate from a damaged image with a 500 naming the commit", async () => {
      for (let attempt = 0; attempt < 2; attempt++) {
        const res = await get(paths.coldArtifact);
        assert.equal(res.status, 500);
        assert.match(res.body.toString(), /image of demo\/payments commit [0-9a-f]{32} is corrupt/);
      }
    });

    it("fsck reports each damaged blob; --repair fixes the artifact and leaves the commit's blobs reported", async () => {
      const found = await fsck();
      assert.equal(found.code, 1);
      assert.deepEqual(corruptKeys(found.report), [keys.npm, keys.sources, keys.image].sort());
      const npmFinding = found.report.corrupt.find((c) => c.key === keys.npm);
      assert.match(npmFinding?.usedBy.join() ?? "", /^artifact /);

      const repaired = await fsck("--repair");
      assert.equal(repaired.code, 1, "damaged sources and images need a backup");
      const byKey = new Map(repaired.report.corrupt.map((c) => [c.key, c.repaired]));
      assert.match(byKey.get(keys.npm) ?? "", /regenerated on the next request/);
      assert.equal(byKey.get(keys.sources), undefined);
      assert.equal(byKey.get(keys.image), undefined);
      assert.equal(repaired.report.unrepaired, 2);

      const res = await get(paths.npm);
      assert.equal(res.status, 200, res.body.toString());
      assert.ok(
        res.body.equals(good.get("npm") ?? Buffer.alloc(0)),
        "the npm tarball comes back byte for byte",
      );
      assert.deepEqual(corruptKeys((await fsck()).report), [keys.sources, keys.image].sort());
    });

    extra?.(() => server);
  });
}

scenario(
  "the fs driver",
  async (dataDir) => ({
    env: {},
    async flip(key) {
      const file = join(dataDir, "blobs", ...key.split("/"));
      await writeFile(file, flipped(await readFile(file)));
    },
    async close() {},
  }),
  (server) => {
    it("fails a generation that yields no files for a module with files, and keeps nothing", async () => {
      const env = { PROTODEPOT_REMOTE: server().url, PROTODEPOT_TOKEN: adminToken };
      await cliOk(["plugin", "create", "demo/empty"], env);
      const echo = join(repoRoot, "test/fixtures/plugins/echo.mjs");
      await cliOk(["plugin", "version", "create", "demo/empty", "v1.0.0", "--command", echo], env);
      const config = JSON.stringify({ plugins: [{ owner: "demo", name: "empty", parameter: "{}" }] });
      await cliOk(["template", "create", "demo/empty", "--config", config], env);
      const pin = JSON.stringify({ plugin_versions: [{ owner: "demo", name: "empty", version: "v1.0.0" }] });
      await cliOk(["template", "version", "create", "demo/empty", "--config", pin], env);
      for (let attempt = 0; attempt < 2; attempt++) {
        const res = await fetch(`${server().url}/v1/demo/empty/v1/demo/money/main.tar.gz`);
        assert.equal(res.status, 422);
        assert.match(
          await res.text(),
          /template demo\/empty v1 generated no files for demo\/money commit [0-9a-f]{32} \(\d+ files to generate\)/,
        );
      }
    });
  },
);

describe("integrity on S3", { skip: skipWithout(s3Variable) }, () => {
  let bucket: Awaited<ReturnType<typeof createTestBucket>>;
  before(async () => {
    bucket = await createTestBucket();
  });
  after(async () => {
    await bucket?.drop();
  });
  scenario("the s3 driver", async () => {
    const s3 = testS3();
    const prefix = `integrity-${randomBytes(4).toString("hex")}/`;
    const raw = await createS3BlobStore({ ...s3, bucket: bucket.bucket, prefix, forcePathStyle: true });
    return {
      env: {
        PROTODEPOT_STORAGE_BLOB_DRIVER: "s3",
        PROTODEPOT_STORAGE_BLOB_S3_ENDPOINT: s3.endpoint,
        PROTODEPOT_STORAGE_BLOB_S3_BUCKET: bucket.bucket,
        PROTODEPOT_STORAGE_BLOB_S3_PREFIX: prefix,
        PROTODEPOT_STORAGE_BLOB_S3_ACCESS_KEY_ID: s3.accessKeyId,
        PROTODEPOT_STORAGE_BLOB_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      },
      async flip(key) {
        const stream = await raw.get(key);
        assert.ok(stream, `${key} is stored`);
        const chunks: Buffer[] = [];
        for await (const c of stream) chunks.push(c as Buffer);
        await raw.put(key, flipped(Buffer.concat(chunks)));
      },
      async close() {
        raw.close();
      },
    };
  });
});
