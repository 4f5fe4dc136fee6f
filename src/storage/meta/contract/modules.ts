// The metadata store contract: modules, commits and their settings (run by runMetadataStoreSuite on every driver).
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { Code, isRegistryError } from "../../../core/errors.js";
import type { Commit } from "../../../core/types.js";
import type { MetadataStore } from "../metadata-store.js";
import { hex, isCode, newCommit, type Suite } from "./support.js";

export function pushCases(suite: Suite): void {
  describe("pushes: commits, digests and labels", () => {
    let store: MetadataStore;
    beforeEach(() => {
      store = suite.store();
    });

    const push = suite.push;

    it("creates the module on the first push and stores the commit, its files and its label", async () => {
      const input = newCommit("acme", "payments", {
        files: [
          { path: "b/b.proto", size: 20, sha256: hex(32) },
          { path: "a.proto", size: 10, sha256: hex(32) },
        ],
        label: "dev",
      });
      const { commit, created } = await store.insertCommit(input, "private");
      assert.equal(created, true);
      assert.equal(commit.id, input.id);
      assert.equal(commit.seq, 1);
      assert.equal(commit.owner, "acme");
      assert.equal(commit.module, "payments");
      assert.equal(commit.digest, input.digest);
      assert.equal(commit.sourcesBlob, input.sourcesBlob);
      assert.equal(commit.imageBlob, input.imageBlob);
      assert.equal(commit.createdBy, "alice");

      const mod = await store.getModule("acme", "payments");
      assert.ok(mod);
      assert.equal(mod.id, commit.moduleId);
      assert.equal(mod.visibility, "private");
      assert.equal(mod.defaultLabel, "dev");
      assert.deepEqual(await store.getCommit(commit.id), commit);
      assert.deepEqual(await store.getCommitBySeq(mod.id, 1), commit);
      assert.equal(await store.getCommitBySeq(mod.id, 2), undefined);
      assert.equal(await store.getCommit(hex(16)), undefined);
      assert.deepEqual(
        await store.listCommitFiles(commit.id),
        [...input.files].sort((x, y) => x.path.localeCompare(y.path)),
      );
      const label = await store.getLabel(mod.id, "dev");
      assert.equal(label?.commitId, commit.id);
      assert.equal(await store.getLabel(mod.id, "main"), undefined);
    });

    it("keeps a commit's b5 digest: given at insert, or recorded once later and never replaced", async () => {
      const dep = await push("acme", "base");
      const b5 = { digest: hex(64), deps: [dep.id] };
      const withB5 = await push("acme", "app", { b5, deps: [{ commitId: dep.id, direct: true }] });
      assert.deepEqual(withB5.b5, b5);
      assert.deepEqual((await store.getCommit(withB5.id))?.b5, b5);

      assert.equal(dep.b5, undefined);
      const later = { digest: hex(64), deps: [] };
      await store.setCommitB5(dep.id, later);
      await store.setCommitB5(dep.id, { digest: hex(64), deps: [] });
      assert.deepEqual((await store.getCommit(dep.id))?.b5, later);
      const mod = await store.getModule("acme", "base");
      assert.ok(mod);
      assert.deepEqual(await store.getModuleById(mod.id), mod);
      assert.equal(await store.getModuleById(hex(16)), undefined);
    });

    it("defaults a new module to public and keeps an existing module's visibility and default label", async () => {
      await push("acme", "a");
      assert.equal((await store.getModule("acme", "a"))?.visibility, "public");
      await store.insertCommit(newCommit("acme", "a", { label: "v2" }), "private");
      const mod = await store.getModule("acme", "a");
      assert.equal(mod?.visibility, "public");
      assert.equal(mod?.defaultLabel, "main");
    });

    it("returns the label's head unchanged when digest and deps are the same", async () => {
      const dep = await push("acme", "common");
      const deps = [{ commitId: dep.id, direct: true }];
      const first = await push("acme", "payments", {
        deps,
        files: [{ path: "a.proto", size: 1, sha256: hex(32) }],
      });
      const again = await store.insertCommit(newCommit("acme", "payments", { digest: first.digest, deps }));
      assert.equal(again.created, false);
      assert.deepEqual(again.commit, first);
      assert.equal(await store.getCommitBySeq(first.moduleId, 2), undefined);

      // A new digest, or the same digest with other deps, is a new commit.
      const changedDigest = await push("acme", "payments", { deps });
      assert.equal(changedDigest.seq, 2);
      const dep2 = await push("acme", "common");
      const changedDeps = await push("acme", "payments", {
        digest: changedDigest.digest,
        deps: [{ commitId: dep2.id, direct: true }],
      });
      assert.equal(changedDeps.seq, 3);
      assert.equal((await store.getLabel(first.moduleId, "main"))?.commitId, changedDeps.id);
    });

    it("points a label at an existing identical commit instead of committing the same content again", async () => {
      const dep = await push("acme", "ledger-dep");
      const deps = [{ commitId: dep.id, direct: true }];
      const first = await push("acme", "ledger", { deps });
      const second = await push("acme", "ledger", { deps });
      // Onto a new label: the label is created at the identical commit.
      const beta = await store.insertCommit(
        newCommit("acme", "ledger", { digest: first.digest, deps, label: "beta" }),
      );
      assert.equal(beta.created, false);
      assert.deepEqual(beta.commit, first);
      assert.equal((await store.getLabel(first.moduleId, "beta"))?.commitId, first.id);
      // Onto a label at other content (a revert): the label moves back, no commit is made.
      const revert = await store.insertCommit(newCommit("acme", "ledger", { digest: first.digest, deps }));
      assert.equal(revert.created, false);
      assert.equal(revert.commit.id, first.id);
      assert.equal((await store.getLabel(first.moduleId, "main"))?.commitId, first.id);
      assert.equal(await store.getCommitBySeq(first.moduleId, 3), undefined);
      // The same digest with other deps is still new content.
      const other = await push("acme", "ledger", { digest: first.digest, label: "beta" });
      assert.equal(other.seq, 3);
      assert.notEqual(other.id, second.id);
    });
  });
}

export function moduleLookupCases(suite: Suite): void {
  describe("modules: push policies, lookups and dependencies", () => {
    let store: MetadataStore;
    beforeEach(() => {
      store = suite.store();
    });

    const push = suite.push;

    it("keeps a push policy per module with per-label overrides", async () => {
      const c = await push("acme", "policied");
      assert.equal(await store.getPushPolicy(c.moduleId, "main"), undefined);
      const strict = {
        breaking: "reject",
        breakingCategory: "WIRE_JSON",
        lint: "warn",
        lintCategories: ["BASIC", "COMMENTS"],
      } as const;
      await store.setPushPolicy(c.moduleId, "", { ...strict, lintCategories: [...strict.lintCategories] });
      assert.deepEqual(await store.getPushPolicy(c.moduleId, "main"), {
        label: "",
        ...strict,
        lintCategories: ["BASIC", "COMMENTS"],
      });
      await store.setPushPolicy(c.moduleId, "dev", {
        breaking: "off",
        breakingCategory: "FILE",
        lint: "off",
        lintCategories: [],
      });
      assert.equal((await store.getPushPolicy(c.moduleId, "dev"))?.breaking, "off");
      assert.equal((await store.getPushPolicy(c.moduleId, "main"))?.breaking, "reject");
      await store.setPushPolicy(c.moduleId, "", {
        ...strict,
        breaking: "warn",
        lintCategories: ["MINIMAL"],
      });
      assert.equal((await store.getPushPolicy(c.moduleId, "main"))?.breaking, "warn");
    });

    it("finds commits of one module by a prefix of their id", async () => {
      const a = await push("acme", "prefixed", { id: `abcdef01${"0".repeat(24)}` });
      const b = await push("acme", "prefixed", { id: `abcdef02${"0".repeat(24)}` });
      await push("acme", "prefixed-other", { id: `abcdef03${"0".repeat(24)}` });
      const both = await store.findCommitsByIdPrefix(a.moduleId, "abcdef0", 5);
      assert.deepEqual(
        both.map((c) => c.id),
        [b.id, a.id],
      );
      assert.deepEqual(
        (await store.findCommitsByIdPrefix(a.moduleId, "abcdef01", 5)).map((c) => c.id),
        [a.id],
      );
      assert.deepEqual(await store.findCommitsByIdPrefix(a.moduleId, "abcdef03", 5), []);
      assert.deepEqual(await store.findCommitsByIdPrefix(a.moduleId, "%", 5), []);
    });

    it("lists deps in inserted order with their module and seq", async () => {
      const wkt = await push("acme", "types");
      await push("acme", "common");
      const common2 = await push("acme", "common");
      const app = await push("acme", "app", {
        deps: [
          { commitId: wkt.id, direct: false },
          { commitId: common2.id, direct: true },
        ],
      });
      assert.deepEqual(await store.listCommitDeps(app.id), [
        { commitId: wkt.id, owner: "acme", module: "types", seq: 1, direct: false },
        { commitId: common2.id, owner: "acme", module: "common", seq: 2, direct: true },
      ]);
      assert.deepEqual(await store.listCommitDeps(wkt.id), []);
    });

    it("rejects an unknown dependency and writes nothing", async () => {
      const missing = hex(16);
      await assert.rejects(
        store.insertCommit(newCommit("acme", "app", { deps: [{ commitId: missing, direct: true }] })),
        (err: unknown) => {
          assert.ok(isRegistryError(err, Code.NotFound));
          assert.match(err.message, new RegExp(missing));
          return true;
        },
      );
      assert.equal(await store.getModule("acme", "app"), undefined);
      assert.equal((await push("acme", "app")).seq, 1);
    });

    it("creates an empty module, changes visibility and lists dependents", async () => {
      const empty = await store.createModule({
        owner: "acme",
        name: "empty",
        visibility: "private",
        defaultLabel: "main",
      });
      assert.equal(empty.visibility, "private");
      assert.deepEqual(await store.getModule("acme", "empty"), empty);
      await assert.rejects(
        store.createModule({ owner: "acme", name: "empty", visibility: "public", defaultLabel: "main" }),
        isCode(Code.AlreadyExists),
      );
      await store.setVisibility("module", empty.id, "public");
      assert.equal((await store.getModule("acme", "empty"))?.visibility, "public");

      const base = await push("acme", "base");
      const app = await push("acme", "app", {
        deps: [{ commitId: base.id, direct: true }],
      });
      await push("other", "tool", {
        deps: [
          { commitId: app.id, direct: true },
          { commitId: base.id, direct: false },
        ],
      });
      const baseModule = await store.getModule("acme", "base");
      const appModule = await store.getModule("acme", "app");
      assert.ok(baseModule && appModule);
      assert.deepEqual(
        (await store.listDependents(baseModule.id)).map((m) => `${m.owner}/${m.name}`),
        ["acme/app", "other/tool"],
      );
      assert.deepEqual(
        (await store.listDependents(appModule.id)).map((m) => `${m.owner}/${m.name}`),
        ["other/tool"],
      );
      const toolModule = await store.getModule("other", "tool");
      assert.ok(toolModule);
      assert.deepEqual(
        (await store.listDependencies(toolModule.id)).map((m) => `${m.owner}/${m.name}`),
        ["acme/app", "acme/base"],
      );
      assert.deepEqual(await store.listDependencies(baseModule.id), []);
    });
  });
}

export function moduleLifecycleCases(suite: Suite): void {
  describe("modules: settings, deletion, paging and races", () => {
    let store: MetadataStore;
    beforeEach(() => {
      store = suite.store();
    });

    const push = suite.push;

    it("updates description, default label and deprecation, and deletes only an empty module", async () => {
      const mod = await store.createModule({
        owner: "acme",
        name: "settings",
        visibility: "public",
        defaultLabel: "main",
      });
      assert.equal(mod.description, undefined);
      assert.equal(mod.deprecation, undefined);
      await store.updateModule(mod.id, { description: "Money types", deprecation: "use acme/money" });
      let got = await store.getModule("acme", "settings");
      assert.equal(got?.description, "Money types");
      assert.equal(got?.deprecation, "use acme/money");
      assert.equal(got?.defaultLabel, "main");
      await store.updateModule(mod.id, { defaultLabel: "stable", deprecation: null });
      got = await store.getModule("acme", "settings");
      assert.equal(got?.defaultLabel, "stable");
      assert.equal(got?.deprecation, undefined);
      assert.equal(got?.description, "Money types");
      await store.updateModule(mod.id, { deprecation: "" });
      assert.equal((await store.getModuleById(mod.id))?.deprecation, "");

      assert.equal(await store.deleteEmptyModule(mod.id), true);
      assert.equal(await store.getModule("acme", "settings"), undefined);
      assert.equal(await store.deleteEmptyModule(mod.id), false);
      const pushed = await push("acme", "full");
      assert.equal(await store.deleteEmptyModule(pushed.moduleId), false);
      assert.ok(await store.getCommit(pushed.id));
    });

    it("deletes a module nothing depends on, keeping its rows, and never hands its name out again", async () => {
      const base = await push("acme", "base");
      await push("acme", "app", { deps: [{ commitId: base.id, direct: true }] });
      assert.equal(await store.deleteModule(base.moduleId), "has-dependents");
      assert.equal((await store.getModule("acme", "base"))?.deletedAt, undefined);
      const app = await store.getModule("acme", "app");
      assert.ok(app);
      assert.equal(await store.deleteModule(app.id), "deleted");
      assert.equal(await store.deleteModule(app.id), "missing");
      assert.ok((await store.getModule("acme", "app"))?.deletedAt);
      assert.ok((await store.getModuleById(app.id))?.deletedAt);
      assert.deepEqual(
        (await store.listModules("acme")).map((m) => m.name),
        ["base"],
      );
      await assert.rejects(
        store.createModule({ owner: "acme", name: "app", visibility: "public", defaultLabel: "main" }),
        isCode(Code.Gone),
      );
      await assert.rejects(store.insertCommit(newCommit("acme", "app")), isCode(Code.Gone));
      // Its commits stay: nothing installed changes.
      assert.equal((await store.listCommits(app.id, { limit: 10 })).length, 1);
      // With its dependent gone, the dependency may go too.
      assert.equal(await store.deleteModule(base.moduleId), "deleted");
    });

    it("pages commits newest first", async () => {
      const pushed: Commit[] = [];
      for (let i = 0; i < 5; i++) pushed.push(await push("acme", "app"));
      const moduleId = pushed[0]?.moduleId ?? "";
      const seqs = (cs: Commit[]) => cs.map((c) => c.seq);
      assert.deepEqual(seqs(await store.listCommits(moduleId, { limit: 2 })), [5, 4]);
      assert.deepEqual(seqs(await store.listCommits(moduleId, { limit: 2, beforeSeq: 4 })), [3, 2]);
      assert.deepEqual(seqs(await store.listCommits(moduleId, { limit: 2, beforeSeq: 2 })), [1]);
      assert.deepEqual(seqs(await store.listCommits(moduleId, { limit: 10 })), [5, 4, 3, 2, 1]);
      assert.deepEqual(await store.listCommits(moduleId, { limit: 1 }), [pushed[4]]);
      assert.deepEqual(await store.listCommits(hex(16), { limit: 10 }), []);
      const oldest = { limit: 2, oldestFirst: true };
      assert.deepEqual(seqs(await store.listCommits(moduleId, oldest)), [1, 2]);
      assert.deepEqual(seqs(await store.listCommits(moduleId, { ...oldest, afterSeq: 2 })), [3, 4]);
      const id = pushed[2]?.id ?? "";
      assert.deepEqual(
        seqs(await store.listCommits(moduleId, { limit: 10, idPrefix: id.slice(0, 12) })),
        [3],
      );
      await assert.rejects(
        store.listCommits(moduleId, { limit: 1, idPrefix: "x%" }),
        isCode(Code.InvalidArgument),
      );
    });

    it("lists modules by owner then name", async () => {
      await push("zeta", "a");
      await push("acme", "b");
      await push("acme", "a");
      const names = (ms: { owner: string; name: string }[]) => ms.map((m) => `${m.owner}/${m.name}`);
      assert.deepEqual(names(await store.listModules()), ["acme/a", "acme/b", "zeta/a"]);
      assert.deepEqual(names(await store.listModules("acme")), ["acme/a", "acme/b"]);
      assert.deepEqual(await store.listModules("nobody"), []);
    });

    it("allocates dense seqs under 20 concurrent pushes to one module", async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, () => store.insertCommit(newCommit("acme", "busy"))),
      );
      assert.ok(results.every((r) => r.created));
      const seqs = results.map((r) => r.commit.seq).sort((a, b) => a - b);
      assert.deepEqual(
        seqs,
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
      const moduleId = results[0]?.commit.moduleId ?? "";
      const head = await store.getLabel(moduleId, "main");
      assert.equal(head?.commitId, (await store.getCommitBySeq(moduleId, 20))?.id);
    });

    it("creates one commit when identical pushes race", async () => {
      const digest = `sha256:${hex(32)}`;
      const results = await Promise.all(
        Array.from({ length: 10 }, () => store.insertCommit(newCommit("acme", "race", { digest }))),
      );
      assert.equal(results.filter((r) => r.created).length, 1);
      assert.equal(new Set(results.map((r) => r.commit.id)).size, 1);
    });
  });
}
