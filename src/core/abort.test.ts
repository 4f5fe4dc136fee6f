import assert from "node:assert/strict";
import { test } from "node:test";
import { unlessAborted } from "./abort.js";

test("unlessAborted: the work's result, or the caller's abort while the work goes on", async () => {
  assert.equal(await unlessAborted(Promise.resolve(1), undefined), 1);
  assert.equal(await unlessAborted(Promise.resolve(2), new AbortController().signal), 2);

  let finish: (v: number) => void = () => {};
  const work = new Promise<number>((resolve) => (finish = resolve));
  const caller = new AbortController();
  const waiting = unlessAborted(work, caller.signal, () => new Error("gone"));
  caller.abort();
  await assert.rejects(waiting, /gone/);
  finish(3);
  assert.equal(await work, 3, "the shared work was not cancelled");

  const early = new AbortController();
  early.abort(new Error("already"));
  await assert.rejects(unlessAborted(new Promise(() => {}), early.signal), /already/);
  await assert.rejects(
    unlessAborted(Promise.reject(new Error("failed")), new AbortController().signal),
    /failed/,
  );
});
