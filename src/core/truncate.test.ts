import assert from "node:assert/strict";
import { test } from "node:test";
import { truncateBytes, truncateText, truncateTextStart } from "./truncate.js";

test("truncateText: short text as is; long text cut at maxBytes with a marker giving the whole size", () => {
  assert.equal(truncateText("plugin failed", 16), "plugin failed");
  assert.equal(truncateText("x".repeat(16), 16), "x".repeat(16));
  assert.equal(truncateText("x".repeat(17), 16), `${"x".repeat(16)}… [truncated, 17 bytes in all]`);
  const huge = truncateText("e".repeat(60 * 2 ** 20));
  assert.ok(huge.startsWith("e".repeat(4096)));
  assert.equal(huge.slice(4096), "… [truncated, 62914560 bytes in all]");
});

test("truncateText: counts UTF-8 bytes and never cuts a character in two", () => {
  // "é" is 2 bytes: 9 of them are 18 bytes, and a cut at 17 must keep 8 whole characters.
  assert.equal(truncateText("é".repeat(9), 17), `${"é".repeat(8)}… [truncated, 18 bytes in all]`);
  assert.equal(truncateText("é".repeat(8), 16), "é".repeat(8));
  assert.ok(!truncateText("😀".repeat(100), 10).includes("\uFFFD"));
});

test("truncateBytes: decodes only the head of a large buffer", () => {
  const bytes = new TextEncoder().encode(`${"a".repeat(10)}é`);
  assert.equal(truncateBytes(bytes, 20), "aaaaaaaaaaé");
  assert.equal(truncateBytes(bytes, 11), "aaaaaaaaaa… [truncated, 12 bytes in all]");
});

test("truncateTextStart: keeps the end, where a stderr tail says most", () => {
  assert.equal(truncateTextStart("abc", 8), "abc");
  assert.equal(
    truncateTextStart(`${"x".repeat(20)}panic: here`, 11),
    "[truncated, 31 bytes in all] …panic: here",
  );
  assert.equal(truncateTextStart("é".repeat(9), 17), `[truncated, 18 bytes in all] …${"é".repeat(8)}`);
});
