import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { mavenSourcesPackager } from "./maven-sources.js";
import type { PackageContext } from "./packager.js";

const file = (path: string, text: string) => ({ path, content: new TextEncoder().encode(text) });
const files = [
  file("com/acme/ledger/v1/Entry.java", "package com.acme.ledger.v1;\n"),
  file("com/acme/ledger/v1/LedgerProto.java", "package com.acme.ledger.v1;\n"),
];
// The packager reads nothing of the context: the sources are the files as the plugins wrote them.
const ctx = {} as PackageContext;

test("the same sources give the same jar in any order, with the checksums of its bytes", async () => {
  const a = await mavenSourcesPackager.package(files, ctx);
  const b = await mavenSourcesPackager.package([...files].reverse(), ctx);
  assert.deepEqual(Buffer.from(a.bytes), Buffer.from(b.bytes));
  assert.equal(a.extra?.sha1, createHash("sha1").update(a.bytes).digest("hex"));
  assert.equal(a.extra?.md5, createHash("md5").update(a.bytes).digest("hex"));
  const text = Buffer.from(a.bytes).toString("latin1");
  assert.ok(text.indexOf("META-INF/MANIFEST.MF") < text.indexOf("com/acme/ledger/v1/Entry.java"));
});
