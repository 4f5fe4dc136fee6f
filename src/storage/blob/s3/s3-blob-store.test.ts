import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { CreateMultipartUploadCommand } from "@aws-sdk/client-s3";
import { Code, isRegistryError } from "../../../core/errors.js";
import { createTestBucket, s3Variable, skipWithout, testS3, testS3Client } from "../../testing/services.js";
import { runBlobStoreSuite } from "../blob-store-suite.js";
import { createS3BlobStore } from "./s3-blob-store.js";

// Against a real RadosGW: one bucket for the file, a fresh key prefix per test.
describe("s3 blob store on RadosGW", { skip: skipWithout(s3Variable) }, () => {
  let bucket: Awaited<ReturnType<typeof createTestBucket>>;
  before(async () => {
    bucket = await createTestBucket();
  });
  after(async () => {
    await bucket?.drop();
  });

  const open = (over: { prefix?: string; bucket?: string; secretAccessKey?: string } = {}) =>
    createS3BlobStore({
      ...testS3(),
      bucket: over.bucket ?? bucket.bucket,
      prefix: over.prefix ?? `t-${randomBytes(6).toString("hex")}/`,
      forcePathStyle: true,
      ...(over.secretAccessKey ? { secretAccessKey: over.secretAccessKey } : {}),
    });

  runBlobStoreSuite("s3", async () => {
    const store = await open();
    return {
      store,
      async cleanup() {
        for await (const key of store.list("")) await store.delete(key);
        store.close();
      },
    };
  });

  it("lists a killed writer's unfinished multipart upload as a leftover, and aborts it", async () => {
    const prefix = `left-${randomBytes(4).toString("hex")}/`;
    const store = await open({ prefix });
    const client = testS3Client();
    try {
      await client.send(
        new CreateMultipartUploadCommand({ Bucket: bucket.bucket, Key: `${prefix}sha256/ab/x` }),
      );
      const list = async () => {
        const out = [];
        for await (const left of store.listLeftovers()) out.push(left);
        return out;
      };
      const found = await list();
      assert.equal(found.length, 1);
      assert.match(found[0]?.id ?? "", / sha256\/ab\/x$/);
      assert.ok(Math.abs(Date.now() - (found[0]?.modifiedAt ?? 0)) < 10 * 60_000, "started about now");
      await store.removeLeftover(found[0]?.id ?? "");
      assert.deepEqual(await list(), []);
      await store.put("k", Buffer.from("x"));
      assert.ok(((await store.modifiedAt("k")) ?? 0) > 0);
      assert.equal(await store.modifiedAt("absent"), undefined);
      await store.delete("k");
    } finally {
      client.destroy();
      store.close();
    }
  });

  it("keeps stores with different prefixes apart", async () => {
    const a = await open({ prefix: "apart-a" });
    const b = await open({ prefix: "apart-b/" });
    try {
      await a.put("k", Buffer.from("a"));
      assert.equal(await b.get("k"), undefined);
      const keys = [];
      for await (const key of a.list("")) keys.push(key);
      assert.deepEqual(keys, ["k"]);
    } finally {
      await a.delete("k");
      a.close();
      b.close();
    }
  });

  it("fails at open with a reason for a missing bucket or a wrong secret", async () => {
    await assert.rejects(open({ bucket: "no-such-bucket-protodepot" }), (err: unknown) => {
      assert.ok(isRegistryError(err, Code.FailedPrecondition));
      assert.match(err.message, /does not exist/);
      return true;
    });
    await assert.rejects(open({ secretAccessKey: "wrong" }), (err: unknown) => {
      assert.ok(isRegistryError(err, Code.FailedPrecondition));
      assert.match(err.message, /access denied/);
      return true;
    });
  });
});
