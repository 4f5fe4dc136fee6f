import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Code, isRegistryError } from "../../../core/errors.js";
import { createTestBucket, s3Variable, skipWithout, testS3 } from "../../testing/services.js";
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
