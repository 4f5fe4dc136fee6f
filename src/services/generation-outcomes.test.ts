import assert from "node:assert/strict";
import { test } from "node:test";
import { Code, RegistryError } from "../core/errors.js";
import type { ArtifactKey, ArtifactRecord } from "../core/types.js";
import type { Generator } from "../generate/generator.js";
import type { ArtifactJob } from "./artifact-generator.js";
import { createGenerationOutcomes } from "./generation-outcomes.js";

const artifact = (flavour: ArtifactKey["flavour"], commitId = "c1"): ArtifactKey => ({
  templateId: "t",
  templateVersion: 2,
  commitId,
  scope: "module",
  flavour,
});
const job = (key: ArtifactKey): ArtifactJob => ({
  key: `${key.templateId}/${key.commitId}/${key.flavour}`,
  owner: "acme",
  artifact: key,
  prepare: () => Promise.reject(new Error("not used")),
});

/** A generator that fails with `next` when set, else succeeds. */
function fake() {
  let next: unknown;
  const inner: Generator<ArtifactRecord, ArtifactJob> = {
    async generate(j) {
      if (next !== undefined) throw next;
      return { ...j.artifact, blob: "b", digest: "sha256:x", size: 0, extra: {}, createdAt: "" };
    },
  };
  return { inner, failWith: (err: unknown) => (next = err), succeed: () => (next = undefined) };
}

test("a lasting failure of any flavour marks the template version over the commit failed; a success clears it", async () => {
  const outcomes = createGenerationOutcomes();
  const g = fake();
  const wrapped = outcomes.wrapper(g.inner);
  assert.equal(outcomes.failed("t", 2, "c1"), false);
  g.failWith(new RegistryError(Code.Internal, "plugin exited 1", { plugin: "acme/failing" }));
  await assert.rejects(wrapped.generate(job(artifact("npm"))));
  assert.equal(outcomes.failed("t", 2, "c1"), true);
  // Another commit and another template version are not concerned.
  assert.equal(outcomes.failed("t", 2, "c2"), false);
  assert.equal(outcomes.failed("t", 3, "c1"), false);
  g.succeed();
  await wrapped.generate(job(artifact("archive")));
  assert.equal(outcomes.failed("t", 2, "c1"), false);
});

test("a failure that would not repeat (the client went away, a fault of ours) marks nothing", async () => {
  const outcomes = createGenerationOutcomes();
  const g = fake();
  const wrapped = outcomes.wrapper(g.inner);
  g.failWith(new RegistryError(Code.Unavailable, "client went away"));
  await assert.rejects(wrapped.generate(job(artifact("npm"))));
  g.failWith(new RegistryError(Code.Internal, "disk hiccup"));
  await assert.rejects(wrapped.generate(job(artifact("npm"))));
  assert.equal(outcomes.failed("t", 2, "c1"), false);
});
