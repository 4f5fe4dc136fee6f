import assert from "node:assert/strict";
import { test } from "node:test";
import { Code, isStorageFull, RegistryError } from "./errors.js";

test("a write that failed for lack of space becomes InsufficientStorage, whichever store raised it", () => {
  const raised = [
    Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" }),
    Object.assign(new Error("EDQUOT: disk quota exceeded"), { code: "EDQUOT" }),
    Object.assign(new Error("database or disk is full"), { code: "SQLITE_FULL" }),
    Object.assign(new Error("could not extend file"), { code: "53100" }),
    Object.assign(new Error("quota"), { name: "QuotaExceeded" }),
    new Error("wrapped", { cause: Object.assign(new Error("x"), { code: "ENOSPC" }) }),
  ];
  for (const err of raised) {
    assert.ok(isStorageFull(err), String(err));
    const mapped = RegistryError.from(err);
    assert.equal(mapped.code, Code.InsufficientStorage);
    assert.match(mapped.message, /storage is full.*try again later/);
    assert.equal(mapped.cause, err);
  }
});

test("other failures keep their code", () => {
  for (const err of [
    Object.assign(new Error("ENOENT"), { code: "ENOENT" }),
    Object.assign(new Error("out of memory"), { code: "53200" }),
    new Error("boom"),
    "text",
  ]) {
    assert.equal(isStorageFull(err), false);
    assert.equal(RegistryError.from(err).code, Code.Internal);
  }
  const denied = new RegistryError(Code.PermissionDenied, "no");
  assert.equal(RegistryError.from(denied), denied);
});
