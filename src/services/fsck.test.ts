import assert from "node:assert/strict";
import { mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { ArtifactKey, ArtifactRecord, Commit, Module } from "../core/types.js";
import { putContent } from "../storage/blob/content.js";
import { createFsBlobStore } from "../storage/blob/fs/fs-blob-store.js";
import { contentKey, sha256Hex } from "../storage/blob/paths.js";
import { type FsckMeta, runFsck } from "./fsck.js";

const hour = 60 * 60 * 1000;

/** The few rows fsck reads, in memory. */
function fakeMeta(commits: Partial<Commit>[], artifacts: ArtifactRecord[], idleLeases = 0) {
  const state = { artifacts: [...artifacts], idleLeases };
  const meta: FsckMeta = {
    listModules: async () => [{ id: "m1" } as Module],
    listCommits: async () => commits as Commit[],
    listArtifacts: async () => state.artifacts,
    async deleteArtifacts(k: Partial<ArtifactKey>) {
      const before = state.artifacts.length;
      state.artifacts = state.artifacts.filter((a) => a.commitId !== k.commitId || a.flavour !== k.flavour);
      return before - state.artifacts.length;
    },
    countIdleLeases: async () => state.idleLeases,
    async pruneLeases() {
      const n = state.idleLeases;
      state.idleLeases = 0;
      return n;
    },
  };
  return { meta, state };
}

const artifact = (blob: string, flavour: ArtifactRecord["flavour"]): ArtifactRecord =>
  ({ templateId: "t", templateVersion: 1, commitId: "c1", scope: "module", flavour, blob }) as ArtifactRecord;

describe("fsck", () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "protodepot-fsck-"));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** Backdates a blob or temp file, as if written `ms` ago. */
  const age = async (path: string, ms: number) => {
    const t = (Date.now() - ms) / 1000;
    await utimes(path, t, t);
  };
  const fileOf = (key: string) => join(root, ...key.split("/"));

  it("finds corrupt blobs, missing ones, old orphans and leftovers; repair fixes all but commit blobs", async () => {
    const blobs = await createFsBlobStore({ root, fsync: false });
    const sources = await putContent(blobs, Buffer.from("sources"));
    const image = await putContent(blobs, Buffer.from("image"));
    const good = await putContent(blobs, Buffer.from("good artifact"));
    const bad = await putContent(blobs, Buffer.from("artifact"));
    await writeFile(fileOf(bad.key), "artifacT");
    await writeFile(fileOf(image.key), "imagE");
    const oldOrphan = await putContent(blobs, Buffer.from("pushed, never committed"));
    await age(fileOf(oldOrphan.key), 2 * hour);
    const youngOrphan = await putContent(blobs, Buffer.from("a push in progress"));
    const missing = contentKey(sha256Hex(Buffer.from("gone")));
    await writeFile(join(root, "tmp", "00ab"), "half a blob");
    await age(join(root, "tmp", "00ab"), 2 * hour);
    await writeFile(join(root, "tmp", "00cd"), "a write in progress");

    const { meta, state } = fakeMeta(
      [{ owner: "acme", module: "pay", id: "c1", sourcesBlob: sources.key, imageBlob: image.key }],
      [artifact(good.key, "archive"), artifact(bad.key, "npm"), artifact(missing, "go")],
      3,
    );
    const check = (repair: boolean) => runFsck({ meta, blobs, repair, graceMs: hour });

    const found = await check(false);
    assert.deepEqual(found.corrupt.map((f) => f.key).sort(), [bad.key, image.key].sort());
    assert.deepEqual(found.corrupt.find((f) => f.key === image.key)?.usedBy, ["commit acme/pay c1 image"]);
    assert.deepEqual(
      found.dangling.map((f) => f.key),
      [missing],
    );
    assert.deepEqual(
      found.orphans.map((f) => f.key),
      [oldOrphan.key],
      "the young orphan may be a push in flight",
    );
    assert.deepEqual(
      found.leftovers.map((f) => f.key),
      ["00ab"],
    );
    assert.equal(found.idleLeases, 3);
    assert.equal(found.unrepaired, 6);
    assert.ok(await blobs.stat(oldOrphan.key), "a report changes nothing");

    const fixed = await check(true);
    assert.equal(fixed.unrepaired, 1, "only the commit's image needs a backup");
    assert.equal(fixed.corrupt.find((f) => f.key === image.key)?.repaired, undefined);
    assert.ok(await blobs.stat(image.key), "a commit's blob is never removed");
    assert.equal(await blobs.stat(bad.key), undefined);
    assert.equal(await blobs.stat(oldOrphan.key), undefined);
    assert.ok(await blobs.stat(youngOrphan.key));
    assert.deepEqual(
      state.artifacts.map((a) => a.flavour),
      ["archive"],
      "the damaged and the dangling artifact records are gone: the next request regenerates them",
    );
    assert.equal(fixed.prunedLeases, 3);

    const after = await check(false);
    assert.deepEqual(
      [
        after.corrupt.length,
        after.dangling.length,
        after.orphans.length,
        after.leftovers.length,
        after.idleLeases,
      ],
      [1, 0, 0, 0, 0],
    );
  });
});
