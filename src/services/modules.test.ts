// Push rules over the real SQLite store, the real fs blob store and the real buf compiler.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { b4Digest } from "../compile/b5-digest.js";
import { createBufChecker } from "../compile/buf-checks.js";
import { type Compiler, createBufCompiler } from "../compile/buf-compiler.js";
import { Code, isRegistryError, RegistryError } from "../core/errors.js";
import { repoRoot } from "../generate/testing/examples.js";
import type { BlobStore } from "../storage/blob/blob-store.js";
import { createFsBlobStore } from "../storage/blob/fs/fs-blob-store.js";
import type { MetadataStore } from "../storage/meta/metadata-store.js";
import { createSqliteMetadataStore } from "../storage/meta/sqlite/sqlite-metadata-store.js";
import { readModuleDir } from "../workspace/module-dir.js";
import { createAccessPolicy } from "./access.js";
import type { Principal } from "./auth.js";
import { createModuleService, type ModuleService } from "./modules.js";

describe("module service: pushing", () => {
  let dir: string;
  let meta: MetadataStore;
  let admin: Principal;
  let modules: ModuleService;
  let compiles = 0;
  let blobReads = 0;
  /** Makes the next compile fail as the server's own failure (not a refusal of what was pushed). */
  let failNextCompile = false;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "protodepot-modules-"));
    meta = await createSqliteMetadataStore({ path: join(dir, "meta.sqlite") });
    const user = await meta.createUser({ name: "admin", isAdmin: true });
    admin = { user };
    await meta.createOrganization({ name: "demo", ownerUserId: user.id });
    const buf = createBufCompiler();
    const counting: Compiler = {
      compile(input, signal) {
        compiles++;
        if (failNextCompile) {
          failNextCompile = false;
          return Promise.reject(new RegistryError(Code.Internal, "compiler crashed"));
        }
        return buf.compile(input, signal);
      },
    };
    const fsBlobs = await createFsBlobStore({ root: join(dir, "blobs"), fsync: false });
    const blobs: BlobStore = new Proxy(fsBlobs, {
      get(target, prop, receiver) {
        if (prop === "get" || prop === "read") blobReads++;
        return Reflect.get(target, prop, receiver);
      },
    });
    modules = createModuleService({
      meta,
      blobs,
      compiler: counting,
      checker: createBufChecker(),
      access: createAccessPolicy(meta, { anonymousRead: true }),
      limits: { maxFiles: 1000, maxFileBytes: 1 << 20 },
      defaultVisibility: "public",
    });
  });
  after(async () => {
    await meta.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("answers a re-push of the label's head with that commit, without compiling", async () => {
    const files = await readModuleDir(join(repoRoot, "examples/money"));
    const first = await modules.push(admin, { files, label: "main" });
    assert.equal(first.created, true);
    const before = compiles;
    const again = await modules.push(admin, { files, label: "main" });
    assert.equal(again.created, false);
    assert.equal(again.commit.id, first.commit.id);
    assert.equal(compiles, before, "the unchanged push ran the compiler");
  });

  it("compiles changed content, and content equal to an older commit still lands on that commit", async () => {
    const files = await readModuleDir(join(repoRoot, "examples/money"));
    const changed = files.map((f) =>
      f.path.endsWith(".proto")
        ? { ...f, content: new Uint8Array([...f.content, ...new TextEncoder().encode("\n// changed\n")]) }
        : f,
    );
    const before = compiles;
    const second = await modules.push(admin, { files: changed, label: "main" });
    assert.equal(second.created, true);
    assert.equal(second.commit.seq, 2);
    // Back to the first content: not the head, so it is compiled, and the store answers with seq 1.
    const back = await modules.push(admin, { files, label: "main" });
    assert.equal(back.created, false);
    assert.equal(back.commit.seq, 1);
    assert.equal(compiles, before + 2);
  });

  it("computes a commit's b4 digest once: a commit's files never change", async () => {
    const files = await readModuleDir(join(repoRoot, "examples/money"));
    const { commit } = await modules.push(admin, { files, label: "b4" });
    const before = blobReads;
    const first = await modules.b4Of(commit);
    assert.deepEqual(await modules.b4Of(commit), first);
    assert.equal(blobReads, before + 1, "the commit's sources were read once");
    assert.deepEqual(first, b4Digest(await modules.readFiles(commit)));
  });

  it("removes the empty module a refused first buf upload went to, and keeps it when the server failed", async () => {
    const enc = (text: string) => new TextEncoder().encode(text);
    const secret = await modules.push(admin, {
      module: "demo/secret",
      visibility: "private",
      files: [
        { path: "buf.yaml", content: enc("version: v2\n") },
        { path: "secret/v1/s.proto", content: enc('syntax = "proto3";\npackage secret.v1;\nmessage S {}\n') },
      ],
    });
    const importing = [
      {
        path: "open/v1/o.proto",
        content: enc(
          'syntax = "proto3";\npackage open.v1;\nimport "secret/v1/s.proto";\nmessage O { secret.v1.S s = 1; }\n',
        ),
      },
    ];
    // What `buf push --create --create-visibility public` does: CreateModules, then Upload.
    const open = { owner: "demo", name: "open" };
    await modules.createModule(admin, open, { visibility: "public" });
    await assert.rejects(
      modules.upload(admin, [{ module: open, files: importing, labels: [] }], [secret.commit.id]),
      (err: unknown) => {
        assert.ok(isRegistryError(err, Code.FailedPrecondition));
        assert.match(err.message, /cannot depend on private modules \(demo\/secret\)/);
        assert.match(err.message, /push with --create-visibility private/);
        return true;
      },
    );
    assert.equal(await meta.getModule("demo", "open"), undefined, "the refused push left its module behind");

    const kept = { owner: "demo", name: "kept" };
    await modules.createModule(admin, kept, { visibility: "private" });
    failNextCompile = true;
    await assert.rejects(
      modules.upload(admin, [{ module: kept, files: importing, labels: [] }], [secret.commit.id]),
      (err: unknown) => isRegistryError(err, Code.Internal),
    );
    assert.ok(await meta.getModule("demo", "kept"), "a server failure removed the module");
    const [stored] = await modules.upload(
      admin,
      [{ module: kept, files: importing, labels: [] }],
      [secret.commit.id],
    );
    assert.equal(stored?.seq, 1);
  });
});
