// The PostgreSQL and S3 servers tests use, started outside the test run (test/services/*.sh, .ci/services/*.sh).
import { randomBytes } from "node:crypto";
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  S3Client,
} from "@aws-sdk/client-s3";
import pg from "pg";

const hint = "start one with test/services/with-services.sh (see DEVELOPMENT.md)";

/**
 * Outside CI a test needing `variable` skips with this reason when it is unset; in CI (which starts every service)
 * the test runs and fails with the message of `required()`.
 */
export function skipWithout(variable: string): string | false {
  return !process.env[variable] && !process.env.CI && `${variable} is not set: ${hint}`;
}

function required(variable: string): string {
  const value = process.env[variable];
  if (!value) throw new Error(`${variable} is not set: ${hint}`);
  return value;
}

export const pgVariable = "PROTODEPOT_TEST_PG_URL";
export const s3Variable = "PROTODEPOT_TEST_S3_ENDPOINT";

export interface TestS3 {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export function testS3(): TestS3 {
  return {
    endpoint: required(s3Variable),
    region: "us-east-1",
    accessKeyId: required("PROTODEPOT_TEST_S3_ACCESS_KEY"),
    secretAccessKey: required("PROTODEPOT_TEST_S3_SECRET_KEY"),
  };
}

export function testS3Client(s3: TestS3 = testS3()): S3Client {
  return new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

/** A fresh bucket; `drop()` empties and deletes it. */
export async function createTestBucket(): Promise<{ bucket: string; drop(): Promise<void> }> {
  const client = testS3Client();
  const bucket = `protodepot-test-${randomBytes(6).toString("hex")}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    bucket,
    async drop() {
      try {
        for (;;) {
          const page = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
          const objects = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
          if (objects.length === 0) break;
          await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects } }));
        }
        await client.send(new DeleteBucketCommand({ Bucket: bucket }));
      } finally {
        client.destroy();
      }
    },
  };
}

/** A fresh database on the test server; `drop()` removes it (closing every connection to it first). */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const base = required(pgVariable);
  const name = `protodepot_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: base });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
