// The contract every MetadataStore driver passes: `runMetadataStoreSuite("sqlite", …)`, `("postgres", …)`.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { afterEach, beforeEach, describe, it } from "node:test";
import { Code, isRegistryError } from "../../core/errors.js";
import type { ArtifactKey, Commit, PluginVersion } from "../../core/types.js";
import type { MetadataStore, NewCommit } from "./metadata-store.js";
import { runWebhookStoreSuite } from "./webhook-store-suite.js";

/** One empty database made by a driver for one test. */
export interface MetadataStoreHarness {
  store: MetadataStore;
  /** Opens another store over the same data, as a restarted server would; the suite closes the old one first. */
  reopen(): Promise<MetadataStore>;
  /** Closes every store the harness opened and removes the data. */
  cleanup(): Promise<void>;
}

const hex = (bytes: number): string => randomBytes(bytes).toString("hex");

function newCommit(owner: string, module: string, over: Partial<NewCommit> = {}): NewCommit {
  return {
    owner,
    module,
    id: hex(16),
    digest: `sha256:${hex(32)}`,
    sourcesBlob: `sha256/aa/${hex(32)}`,
    imageBlob: `sha256/bb/${hex(32)}`,
    createdBy: "alice",
    files: [],
    deps: [],
    label: "main",
    ...over,
  };
}

function isCode(code: Code) {
  return (err: unknown): boolean => isRegistryError(err, code);
}

export function runMetadataStoreSuite(driverName: string, make: () => Promise<MetadataStoreHarness>): void {
  describe(`MetadataStore contract: ${driverName}`, () => {
    let harness: MetadataStoreHarness;
    let store: MetadataStore;

    beforeEach(async () => {
      harness = await make();
      store = harness.store;
    });
    afterEach(async () => {
      await harness.cleanup();
    });

    async function push(owner: string, module: string, over: Partial<NewCommit> = {}): Promise<Commit> {
      const { commit, created } = await store.insertCommit(newCommit(owner, module, over));
      assert.equal(created, true);
      return commit;
    }

    runWebhookStoreSuite(() => store);

    describe("users and tokens", () => {
      it("creates users and finds them by name and id", async () => {
        const bob = await store.createUser({ name: "bob", isAdmin: false });
        const alice = await store.createUser({ name: "alice", isAdmin: true });
        assert.match(alice.id, /^[0-9a-f]{32}$/);
        assert.equal(alice.isAdmin, true);
        assert.equal(bob.isAdmin, false);
        assert.deepEqual(await store.getUserByName("alice"), alice);
        assert.deepEqual(await store.getUserById(bob.id), bob);
        assert.equal(await store.getUserByName("carol"), undefined);
        assert.equal(await store.getUserById(hex(16)), undefined);
        assert.deepEqual(await store.listUsers(), [alice, bob]);
      });

      it("refuses a duplicate user name", async () => {
        await store.createUser({ name: "alice", isAdmin: false });
        await assert.rejects(store.createUser({ name: "alice", isAdmin: true }), (err: unknown) => {
          assert.ok(isRegistryError(err, Code.AlreadyExists));
          assert.match(err.message, /alice/);
          return true;
        });
      });

      it("creates tokens and finds them with their user by hash", async () => {
        const alice = await store.createUser({ name: "alice", isAdmin: true });
        const hash = hex(32);
        const token = await store.createToken({ userId: alice.id, hash, note: "laptop" });
        assert.equal(token.userId, alice.id);
        assert.equal(token.note, "laptop");
        assert.deepEqual(await store.findToken(hash), { token, user: alice });
        assert.equal(await store.findToken(hex(32)), undefined);
      });

      it("refuses a duplicate token hash and a token of an unknown user", async () => {
        const alice = await store.createUser({ name: "alice", isAdmin: false });
        const hash = hex(32);
        await store.createToken({ userId: alice.id, hash, note: "" });
        await assert.rejects(
          store.createToken({ userId: alice.id, hash, note: "" }),
          isCode(Code.AlreadyExists),
        );
        await assert.rejects(
          store.createToken({ userId: hex(16), hash: hex(32), note: "" }),
          isCode(Code.NotFound),
        );
      });
    });

    describe("token lifecycle", () => {
      it("stores expiry, revokes once, records last use and lists a user's tokens", async () => {
        const alice = await store.createUser({ name: "alice", isAdmin: false });
        const bob = await store.createUser({ name: "bob", isAdmin: false });
        const a1 = await store.createToken({ userId: alice.id, hash: hex(32), note: "laptop" });
        const a2 = await store.createToken({
          userId: alice.id,
          hash: hex(32),
          note: "ci",
          expiresAt: "2030-01-01T00:00:00.000Z",
        });
        await store.createToken({ userId: bob.id, hash: hex(32), note: "bob's" });
        assert.equal(a1.expiresAt, undefined);
        assert.equal(a2.expiresAt, "2030-01-01T00:00:00.000Z");
        assert.deepEqual((await store.listTokens(alice.id)).map((t) => t.note).sort(), ["ci", "laptop"]);
        assert.deepEqual(await store.getToken(a1.id), a1);
        assert.equal(await store.getToken(hex(16)), undefined);
        assert.equal(await store.revokeToken(a1.id, "2026-01-01T00:00:00.000Z"), true);
        assert.equal(await store.revokeToken(a1.id, "2026-01-02T00:00:00.000Z"), false);
        assert.equal(await store.revokeToken(hex(16), "2026-01-02T00:00:00.000Z"), false);
        await store.touchToken(a2.id, "2026-02-01T00:00:00.000Z");
        const found = await store.findToken(a1.hash);
        assert.equal(found?.token.revokedAt, "2026-01-01T00:00:00.000Z");
        const touched = (await store.listTokens(alice.id)).find((t) => t.id === a2.id);
        assert.equal(touched?.lastUsedAt, "2026-02-01T00:00:00.000Z");
      });
    });

    describe("token scopes, bots and the audit log", () => {
      it("keeps a token's scopes and a bot's organization, and deletes a bot with its tokens", async () => {
        const alice = await store.createUser({ name: "alice", isAdmin: false });
        await store.createOrganization({ name: "acme", ownerUserId: alice.id });
        const scoped = await store.createToken({
          userId: alice.id,
          hash: hex(32),
          note: "ci",
          scopes: ["read", "write:acme/payments"],
        });
        assert.deepEqual(scoped.scopes, ["read", "write:acme/payments"]);
        assert.deepEqual((await store.findToken(scoped.hash))?.token.scopes, ["read", "write:acme/payments"]);
        const full = await store.createToken({ userId: alice.id, hash: hex(32), note: "", scopes: [] });
        assert.equal(full.scopes, undefined);
        assert.equal((await store.getToken(full.id))?.scopes, undefined);

        const bot = await store.createUser({ name: "acme-ci", isAdmin: false, botOf: "acme" });
        assert.equal(bot.botOf, "acme");
        await assert.rejects(
          store.createUser({ name: "ghost-ci", isAdmin: false, botOf: "ghost" }),
          isCode(Code.NotFound),
        );
        assert.equal(await store.getOwner("ghost-ci"), undefined);
        const botToken = await store.createToken({ userId: bot.id, hash: hex(32), note: "" });
        assert.equal((await store.findToken(botToken.hash))?.user.botOf, "acme");
        assert.deepEqual(
          (await store.listBots("acme")).map((u) => u.name),
          ["acme-ci"],
        );
        assert.equal(await store.deleteBot(alice.id, "2026-01-01T00:00:00.000Z"), false);
        assert.equal(await store.deleteBot(bot.id, "2026-01-01T00:00:00.000Z"), true);
        assert.equal(await store.deleteBot(bot.id, "2026-01-02T00:00:00.000Z"), false);
        assert.deepEqual(await store.listBots("acme"), []);
        const after = await store.findToken(botToken.hash);
        assert.equal(after?.token.revokedAt, "2026-01-01T00:00:00.000Z");
        assert.equal(after?.user.deletedAt, "2026-01-01T00:00:00.000Z");
        // The name stays taken.
        await assert.rejects(
          store.createUser({ name: "acme-ci", isAdmin: false }),
          isCode(Code.AlreadyExists),
        );
      });

      it("appends audit events, lists them newest first by filter and page, and prunes old ones", async () => {
        const at = (minute: number) => `2026-03-01T10:${String(minute).padStart(2, "0")}:00.000Z`;
        const appended = [];
        for (let i = 0; i < 6; i++) {
          appended.push(
            await store.appendAudit({
              at: at(i),
              action: i % 2 === 0 ? "module.create" : "label.move",
              actor: i < 3 ? "alice" : "bob",
              ...(i < 3 ? { actorId: "a1", tokenId: "t1" } : { bot: true }),
              ...(i % 3 === 0 ? {} : { owner: "acme" }),
              target: `acme/m${i}`,
              ...(i === 1 ? { before: '{"commit":"x"}', after: '{"commit":"y"}' } : {}),
              clientAddress: "127.0.0.1",
              userAgent: "protodepot-cli",
              requestId: `req-${i}`,
              count: i === 5 ? 7 : 1,
            }),
          );
        }
        const all = await store.listAudit({ limit: 100 });
        assert.deepEqual(
          all.map((e) => e.target),
          ["acme/m5", "acme/m4", "acme/m3", "acme/m2", "acme/m1", "acme/m0"],
        );
        assert.deepEqual(all[4], appended[1]);
        assert.equal(all[4]?.before, '{"commit":"x"}');
        assert.equal(all[0]?.count, 7);
        assert.equal(all[0]?.bot, true);
        const ids = (events: { target: string }[]) => events.map((e) => e.target);
        assert.deepEqual(ids(await store.listAudit({ limit: 100, actor: "bob" })), [
          "acme/m5",
          "acme/m4",
          "acme/m3",
        ]);
        assert.deepEqual(ids(await store.listAudit({ limit: 100, owner: "acme" })), [
          "acme/m5",
          "acme/m4",
          "acme/m2",
          "acme/m1",
        ]);
        assert.deepEqual(ids(await store.listAudit({ limit: 100, action: "label.move", since: at(2) })), [
          "acme/m5",
          "acme/m3",
        ]);
        const page1 = await store.listAudit({ limit: 2 });
        const page2 = await store.listAudit({ limit: 2, beforeId: page1[1]?.id ?? "" });
        assert.deepEqual(ids([...page1, ...page2]), ["acme/m5", "acme/m4", "acme/m3", "acme/m2"]);
        assert.equal(await store.pruneAudit(at(2)), 2);
        assert.deepEqual(ids(await store.listAudit({ limit: 100 })), [
          "acme/m5",
          "acme/m4",
          "acme/m3",
          "acme/m2",
        ]);
      });
    });

    describe("owners and organizations", () => {
      it("shares one namespace between users and organizations", async () => {
        const alice = await store.createUser({ name: "alice", isAdmin: false });
        assert.deepEqual(await store.getOwner("alice"), { name: "alice", kind: "user" });
        const acme = await store.createOrganization({ name: "acme", ownerUserId: alice.id });
        assert.deepEqual(await store.getOwner("acme"), { name: "acme", kind: "organization" });
        assert.equal(await store.getOwner("nobody"), undefined);
        assert.deepEqual(await store.getOrganization("acme"), acme);
        await assert.rejects(
          store.createOrganization({ name: "alice", ownerUserId: alice.id }),
          isCode(Code.AlreadyExists),
        );
        await assert.rejects(store.createUser({ name: "acme", isAdmin: false }), isCode(Code.AlreadyExists));
        await assert.rejects(
          store.createOrganization({ name: "acme", ownerUserId: alice.id }),
          isCode(Code.AlreadyExists),
        );
        // A refused organization leaves no owner name behind.
        assert.equal((await store.listOrganizations()).length, 1);
      });

      it("keeps members with roles, changes and removes them", async () => {
        const alice = await store.createUser({ name: "alice", isAdmin: false });
        const bob = await store.createUser({ name: "bob", isAdmin: false });
        const carol = await store.createUser({ name: "carol", isAdmin: false });
        const acme = await store.createOrganization({ name: "acme", ownerUserId: alice.id });
        const beta = await store.createOrganization({ name: "beta", ownerUserId: bob.id });
        await store.setMember(acme.id, bob.id, "reader");
        await store.setMember(acme.id, bob.id, "writer");
        assert.equal(await store.getMemberRole("acme", alice.id), "owner");
        assert.equal(await store.getMemberRole("acme", bob.id), "writer");
        assert.equal(await store.getMemberRole("acme", carol.id), undefined);
        assert.equal(await store.getMemberRole("beta", alice.id), undefined);
        assert.deepEqual(
          (await store.listMembers(acme.id)).map((m) => [m.user.name, m.role]),
          [
            ["alice", "owner"],
            ["bob", "writer"],
          ],
        );
        assert.deepEqual(
          (await store.listOrganizations(bob.id)).map((o) => o.name),
          ["acme", "beta"],
        );
        assert.deepEqual(await store.listOrganizations(carol.id), []);
        assert.equal(await store.removeMember(acme.id, bob.id), true);
        assert.equal(await store.removeMember(acme.id, bob.id), false);
        assert.equal(await store.getMemberRole("acme", bob.id), undefined);
        assert.deepEqual(
          (await store.listOrganizations(bob.id)).map((o) => o.name),
          [beta.name],
        );
      });

      it("deletes only an organization that owns nothing, freeing its name", async () => {
        const alice = await store.createUser({ name: "alice", isAdmin: false });
        const acme = await store.createOrganization({ name: "acme", ownerUserId: alice.id });
        await store.createOrganization({ name: "empty", ownerUserId: alice.id });
        await store.createModule({ owner: "acme", name: "app", visibility: "public", defaultLabel: "main" });
        assert.equal(await store.deleteOrganization("acme"), "not-empty");
        assert.deepEqual(await store.getOrganization("acme"), acme);
        assert.equal(await store.getMemberRole("acme", alice.id), "owner");
        assert.equal(await store.deleteOrganization("empty"), "deleted");
        assert.equal(await store.getOrganization("empty"), undefined);
        const carol = await store.createUser({ name: "carol", isAdmin: false });
        await store.createOrganization({ name: "botty", ownerUserId: carol.id });
        await store.createUser({ name: "botty-ci", isAdmin: false, botOf: "botty" });
        assert.equal(
          await store.deleteOrganization("botty"),
          "not-empty",
          "an organization with a bot stays",
        );
        assert.equal(await store.getOwner("empty"), undefined);
        assert.deepEqual(
          (await store.listOrganizations(alice.id)).map((o) => o.name),
          ["acme"],
        );
        assert.equal(await store.deleteOrganization("empty"), "missing");
        assert.equal(await store.deleteOrganization("alice"), "missing");
        await store.createOrganization({ name: "empty", ownerUserId: alice.id });
      });
    });

    describe("modules and commits", () => {
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

    describe("labels", () => {
      it("creates, moves and upserts labels", async () => {
        const c1 = await push("acme", "app");
        const c2 = await push("acme", "app");
        const moduleId = c1.moduleId;

        const v1 = await store.setLabel(moduleId, "v1", c1.id, "create");
        assert.deepEqual(v1, { moduleId, name: "v1", commitId: c1.id, updatedAt: v1.updatedAt });
        assert.deepEqual(await store.getLabel(moduleId, "v1"), v1);
        await assert.rejects(store.setLabel(moduleId, "v1", c2.id, "create"), isCode(Code.AlreadyExists));

        const moved = await store.setLabel(moduleId, "v1", c2.id, "move");
        assert.equal(moved.commitId, c2.id);
        assert.equal((await store.getLabel(moduleId, "v1"))?.commitId, c2.id);
        await assert.rejects(store.setLabel(moduleId, "mian", c2.id, "move"), (err: unknown) => {
          assert.ok(isRegistryError(err, Code.NotFound));
          assert.match(err.message, /mian/);
          assert.match(err.message, /main, v1/);
          return true;
        });

        await store.setLabel(moduleId, "beta", c1.id, "upsert");
        assert.equal((await store.getLabel(moduleId, "beta"))?.commitId, c1.id);
        await store.setLabel(moduleId, "beta", c2.id, "upsert");
        assert.equal((await store.getLabel(moduleId, "beta"))?.commitId, c2.id);

        assert.deepEqual(
          (await store.listLabels(moduleId)).map((l) => [l.name, l.commitId]),
          [
            ["beta", c2.id],
            ["main", c2.id],
            ["v1", c2.id],
          ],
        );
      });

      it("archives a label (listed with its time, still read) and a push to it unarchives it", async () => {
        const c1 = await push("acme", "app");
        const moduleId = c1.moduleId;
        await store.setLabel(moduleId, "v1", c1.id, "create");
        const archived = await store.setLabelArchived(moduleId, "v1", true);
        assert.ok(archived?.archivedAt);
        assert.equal((await store.getLabel(moduleId, "v1"))?.archivedAt, archived.archivedAt);
        // Archiving again keeps the first time.
        assert.equal((await store.setLabelArchived(moduleId, "v1", true))?.archivedAt, archived.archivedAt);
        assert.equal(await store.setLabelArchived(moduleId, "nope", true), undefined);
        const unarchived = await store.setLabelArchived(moduleId, "v1", false);
        assert.equal(unarchived?.archivedAt, undefined);
        await store.setLabelArchived(moduleId, "main", true);
        const c2 = await push("acme", "app");
        const main = await store.getLabel(moduleId, "main");
        assert.equal(main?.commitId, c2.id);
        assert.equal(main?.archivedAt, undefined);
      });

      it("refuses unknown modules, unknown commits and commits of another module", async () => {
        const app = await push("acme", "app");
        const other = await push("acme", "other");
        await assert.rejects(store.setLabel(hex(16), "x", app.id, "upsert"), isCode(Code.NotFound));
        await assert.rejects(store.setLabel(app.moduleId, "x", hex(16), "upsert"), isCode(Code.NotFound));
        await assert.rejects(store.setLabel(app.moduleId, "x", other.id, "create"), isCode(Code.NotFound));
        assert.equal(await store.getLabel(app.moduleId, "x"), undefined);
      });
    });

    describe("plugins", () => {
      const version = (v: string): Omit<PluginVersion, "pluginId" | "createdAt"> => ({
        owner: "bufbuild",
        name: "es",
        version: v,
        source: { kind: "host", command: ["protoc-gen-es"] },
        runtimeLibraries: { npm: [{ package: "@bufbuild/protobuf", version: "^2.2.0" }] },
        registryOptions: { npm: { importStyle: "module" } },
      });

      it("creates, gets and lists plugins", async () => {
        const es = await store.createPlugin({ owner: "bufbuild", name: "es", visibility: "public" });
        const go = await store.createPlugin({ owner: "acme", name: "go", visibility: "private" });
        assert.equal(es.owner, "bufbuild");
        assert.equal(go.visibility, "private");
        assert.deepEqual(await store.getPlugin("bufbuild", "es"), es);
        assert.equal(await store.getPlugin("bufbuild", "go"), undefined);
        assert.deepEqual(await store.listPlugins(), [go, es]);
        assert.deepEqual(await store.listPlugins("bufbuild"), [es]);
        await assert.rejects(
          store.createPlugin({ owner: "bufbuild", name: "es", visibility: "public" }),
          isCode(Code.AlreadyExists),
        );
      });

      it("creates plugin versions and lists them in creation order", async () => {
        const es = await store.createPlugin({ owner: "bufbuild", name: "es", visibility: "public" });
        const v2 = await store.createPluginVersion(version("v2.2.0"));
        const v1 = await store.createPluginVersion(version("v1.10.0"));
        assert.equal(v2.pluginId, es.id);
        assert.deepEqual({ ...v2, createdAt: "" }, { ...version("v2.2.0"), pluginId: es.id, createdAt: "" });
        assert.deepEqual(await store.getPluginVersion("bufbuild", "es", "v2.2.0"), v2);
        assert.equal(await store.getPluginVersion("bufbuild", "es", "v9.0.0"), undefined);
        assert.deepEqual(await store.listPluginVersions("bufbuild", "es"), [v2, v1]);
        assert.deepEqual(await store.listPluginVersions("bufbuild", "nope"), []);
      });

      it("refuses a duplicate version and a version of an unknown plugin", async () => {
        await store.createPlugin({ owner: "bufbuild", name: "es", visibility: "public" });
        await store.createPluginVersion(version("v2.2.0"));
        await assert.rejects(store.createPluginVersion(version("v2.2.0")), (err: unknown) => {
          assert.ok(isRegistryError(err, Code.AlreadyExists));
          assert.match(err.message, /bufbuild\/es v2\.2\.0/);
          return true;
        });
        await assert.rejects(
          store.createPluginVersion({ ...version("v1.0.0"), name: "missing" }),
          isCode(Code.NotFound),
        );
        assert.equal((await store.listPluginVersions("bufbuild", "es")).length, 1);
      });
    });

    describe("templates", () => {
      const plugins = [
        { owner: "bufbuild", name: "es", parameter: "target=ts" },
        { owner: "connectrpc", name: "es", parameter: "" },
      ];
      const pins = (n: number) => [
        { owner: "bufbuild", name: "es", version: `v2.${n}.0` },
        { owner: "connectrpc", name: "es", version: "v1.0.0" },
      ];

      it("creates, gets and lists templates", async () => {
        const t = await store.createTemplate({ owner: "acme", name: "ts", visibility: "public", plugins });
        const u = await store.createTemplate({
          owner: "acme",
          name: "go",
          visibility: "private",
          plugins: [],
        });
        assert.deepEqual(t.plugins, plugins);
        assert.deepEqual(await store.getTemplate("acme", "ts"), t);
        assert.equal(await store.getTemplate("acme", "py"), undefined);
        assert.deepEqual(await store.listTemplates(), [u, t]);
        assert.deepEqual(await store.listTemplates("other"), []);
        await assert.rejects(
          store.createTemplate({ owner: "acme", name: "ts", visibility: "public", plugins }),
          isCode(Code.AlreadyExists),
        );
      });

      it("numbers versions 1, 2, … per template", async () => {
        const t = await store.createTemplate({ owner: "acme", name: "ts", visibility: "public", plugins });
        const other = await store.createTemplate({
          owner: "acme",
          name: "go",
          visibility: "public",
          plugins,
        });
        const v1 = await store.createTemplateVersion(t.id, pins(1));
        const v2 = await store.createTemplateVersion(t.id, pins(2));
        const o1 = await store.createTemplateVersion(other.id, pins(3));
        assert.deepEqual([v1.number, v2.number, o1.number], [1, 2, 1]);
        assert.deepEqual(v2.plugins, pins(2));
        assert.deepEqual(await store.getTemplateVersion(t.id, 2), v2);
        assert.equal(await store.getTemplateVersion(t.id, 3), undefined);
        assert.deepEqual(await store.listTemplateVersions(t.id), [v1, v2]);
        await assert.rejects(store.createTemplateVersion(hex(16), pins(1)), isCode(Code.NotFound));
      });

      it("allocates dense numbers under concurrent creation", async () => {
        const t = await store.createTemplate({ owner: "acme", name: "ts", visibility: "public", plugins });
        const versions = await Promise.all(
          Array.from({ length: 20 }, (_, i) => store.createTemplateVersion(t.id, pins(i))),
        );
        assert.deepEqual(
          versions.map((v) => v.number).sort((a, b) => a - b),
          Array.from({ length: 20 }, (_, i) => i + 1),
        );
      });
    });

    describe("transactions across stores", () => {
      it("commits every store's writes together, or none of them", async () => {
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.createUser({ name: "alice", isAdmin: false });
            await tx.createPlugin({ owner: "alice", name: "es", visibility: "public" });
            // A method with a transaction of its own joins this one.
            await tx.insertCommit(newCommit("alice", "app"));
            throw new Error("changed my mind");
          }),
          /changed my mind/,
        );
        assert.equal(await store.getUserByName("alice"), undefined);
        assert.equal(await store.getPlugin("alice", "es"), undefined);
        assert.equal(await store.getModule("alice", "app"), undefined);

        const user = await store.transaction(async (tx) => {
          const u = await tx.createUser({ name: "alice", isAdmin: false });
          await tx.createPlugin({ owner: "alice", name: "es", visibility: "public" });
          await tx.insertCommit(newCommit("alice", "app"));
          return u;
        });
        assert.deepEqual(await store.getUserByName("alice"), user);
        assert.ok(await store.getPlugin("alice", "es"));
        assert.equal((await store.getModule("alice", "app"))?.name, "app");
      });
    });

    describe("leases", () => {
      const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

      it("lets one holder at a time take a key, with a token that only grows", async () => {
        const a = await store.acquireLease("k", "node-a", 60_000);
        assert.deepEqual(a && { ...a, token: 0 }, { key: "k", holder: "node-a", token: 0 });
        assert.ok(a);
        assert.equal(await store.acquireLease("k", "node-b", 60_000), undefined);
        assert.ok(await store.acquireLease("other", "node-b", 60_000), "keys are independent");
        assert.equal(await store.renewLease(a, 60_000), true);
        assert.equal(await store.releaseLease(a), true);
        assert.equal(await store.releaseLease(a), false, "a lease ends once");
        // A new row's token is the database clock in ms (kysely/leases.ts): a row taken in the same millisecond as
        // the released one may repeat its token, which only a holder reusing its own name could confuse.
        await sleep(2);
        const b = await store.acquireLease("k", "node-b", 60_000);
        assert.equal(b?.holder, "node-b");
        assert.ok(b && b.token > a.token, `token ${b?.token} after ${a.token}`);
        // The old holder's lease can neither be renewed nor released again: the token fences it out.
        assert.equal(await store.renewLease(a, 60_000), false);
        assert.equal(await store.releaseLease({ ...a, holder: "node-b" }), false);
        assert.equal(await store.acquireLease("k", "node-a", 60_000), undefined);
      });

      it("gives an expired lease to the next holder and fences the stale one", async () => {
        const a = await store.acquireLease("k", "node-a", 150);
        assert.ok(a);
        assert.equal(await store.acquireLease("k", "node-b", 60_000), undefined);
        await sleep(250);
        const b = await store.acquireLease("k", "node-b", 60_000);
        assert.equal(b?.token, a.token + 1);
        assert.equal(await store.renewLease(a, 60_000), false);
        assert.equal(await store.releaseLease(a), false);
        assert.equal(await store.acquireLease("k", "node-c", 60_000), undefined, "b's lease is live");
      });

      it("keeps rows only for held leases: a release removes its row, idle ones are counted and pruned", async () => {
        const held = await store.acquireLease("held", "node-a", 60_000);
        const done = await store.acquireLease("done", "node-a", 60_000);
        assert.ok(held && done);
        assert.equal(await store.releaseLease(done), true);
        assert.equal(await store.countIdleLeases(0), 0, "a released lease leaves no row");
        // A holder that crashed: its lease expires and stays until pruned (or taken over).
        assert.ok(await store.acquireLease("crashed", "dead-node", 1));
        await sleep(20);
        assert.equal(await store.countIdleLeases(60_000), 0, "not yet expired for long enough");
        assert.equal(await store.countIdleLeases(0), 1);
        assert.equal(await store.pruneLeases(0), 1);
        assert.equal(await store.countIdleLeases(0), 0);
        assert.equal(await store.renewLease(held, 60_000), true, "a live lease is never pruned");
        const again = await store.acquireLease("done", "node-b", 60_000);
        assert.ok(again && again.token > done.token, "a new row's token is above the removed row's");
      });

      it("gives a free key to exactly one of many racing holders", async () => {
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => store.acquireLease("race", `node-${i}`, 60_000)),
        );
        assert.equal(results.filter((r) => r !== undefined).length, 1);
      });

      it("keeps the lease when the transaction that released it rolls back", async () => {
        const a = await store.acquireLease("k", "node-a", 60_000);
        assert.ok(a);
        await assert.rejects(
          store.transaction(async (tx) => {
            assert.equal(await tx.releaseLease(a), true);
            throw new Error("publish failed");
          }),
          /publish failed/,
        );
        assert.equal(await store.acquireLease("k", "node-b", 60_000), undefined);
        assert.equal(await store.transaction((tx) => tx.releaseLease(a)), true);
        assert.ok(await store.acquireLease("k", "node-b", 60_000));
      });

      it("wakes a waiter after a release, at the latest after its timeout, and stops on abort", async () => {
        const a = await store.acquireLease("k", "node-a", 60_000);
        assert.ok(a);
        const started = Date.now();
        const waited = store.waitForLease("k", 5_000);
        setTimeout(() => void store.releaseLease(a), 50);
        await waited;
        assert.ok(Date.now() - started < 4_000, "a release (or a poll after it) ends the wait");

        const short = Date.now();
        await store.waitForLease("never-released", 100);
        assert.ok(Date.now() - short < 2_000);

        const controller = new AbortController();
        const aborted = store.waitForLease("k2", 60_000, controller.signal);
        controller.abort(new Error("caller left"));
        await assert.rejects(aborted, /caller left/);
      });
    });

    describe("artifacts", () => {
      async function fixture(): Promise<{ key: ArtifactKey; commit: Commit; templateId: string }> {
        const commit = await push("acme", "app");
        const t = await store.createTemplate({
          owner: "acme",
          name: "ts",
          visibility: "public",
          plugins: [],
        });
        await store.createTemplateVersion(t.id, []);
        await store.createTemplateVersion(t.id, []);
        const key: ArtifactKey = {
          templateId: t.id,
          templateVersion: 1,
          commitId: commit.id,
          scope: "module",
          flavour: "archive",
        };
        return { key, commit, templateId: t.id };
      }
      const body = (key: ArtifactKey, blob = `sha256/cc/${hex(32)}`) => ({
        ...key,
        blob,
        digest: `sha256:${hex(32)}`,
        size: 3_000_000_000,
        extra: { integrity: "sha512-abc" },
      });

      it("puts and gets an artifact, first writer wins", async () => {
        const { key } = await fixture();
        assert.equal(await store.getArtifact(key), undefined);
        const first = body(key);
        const stored = await store.putArtifact(first);
        assert.deepEqual(stored, { ...first, createdAt: stored.createdAt });
        assert.deepEqual(await store.getArtifact(key), stored);
        const again = await store.putArtifact(body(key));
        assert.deepEqual(again, stored);
      });

      it("lists and deletes artifacts by any part of the key", async () => {
        const { key, templateId } = await fixture();
        const other = await push("acme", "app");
        const keys: ArtifactKey[] = [
          key,
          { ...key, scope: "imports" },
          { ...key, flavour: "npm" },
          { ...key, templateVersion: 2 },
          { ...key, commitId: other.id },
        ];
        for (const k of keys) await store.putArtifact(body(k));
        assert.equal((await store.listArtifacts({})).length, 5);
        assert.equal((await store.listArtifacts({ templateId })).length, 5);
        assert.equal((await store.listArtifacts({ commitId: key.commitId })).length, 4);
        assert.equal((await store.listArtifacts({ commitId: key.commitId, templateVersion: 1 })).length, 3);
        assert.equal((await store.listArtifacts({ commitIds: [key.commitId, other.id] })).length, 5);
        assert.equal((await store.listArtifacts({ commitIds: [other.id], templateVersion: 1 })).length, 1);
        assert.deepEqual(await store.listArtifacts({ commitIds: [] }), []);
        // More ids than one statement takes: the same answer, in the same order.
        const many = [...Array.from({ length: 1200 }, () => hex(16)), key.commitId, other.id];
        assert.deepEqual(await store.listArtifacts({ commitIds: many }), await store.listArtifacts({}));
        assert.deepEqual(
          (await store.listArtifacts({ flavour: "npm" })).map((a) => a.flavour),
          ["npm"],
        );
        assert.deepEqual(
          (await store.listArtifacts({ scope: "imports" })).map((a) => a.scope),
          ["imports"],
        );

        assert.equal(await store.deleteArtifacts({ commitId: other.id }), 1);
        assert.equal(await store.deleteArtifacts({ commitId: other.id }), 0);
        assert.equal(await store.deleteArtifacts({ templateVersion: 1, scope: "module" }), 2);
        assert.equal(await store.getArtifact(key), undefined);
        assert.equal((await store.listArtifacts({})).length, 2);
        assert.equal(await store.deleteArtifacts({}), 2);
      });

      it("refuses an artifact of an unknown commit", async () => {
        const { key } = await fixture();
        await assert.rejects(store.putArtifact(body({ ...key, commitId: hex(16) })), isCode(Code.NotFound));
      });
    });

    describe("pre-generation", () => {
      it("replaces a module's template list, keeps its order, and unsubscribes with an empty one", async () => {
        const c = await push("acme", "pre");
        const a = await store.createTemplate({ owner: "acme", name: "a", visibility: "public", plugins: [] });
        const b = await store.createTemplate({ owner: "acme", name: "b", visibility: "public", plugins: [] });
        assert.deepEqual(await store.listPregenerate(c.moduleId), []);
        await store.setPregenerate(c.moduleId, [b.id, a.id]);
        assert.deepEqual(
          (await store.listPregenerate(c.moduleId)).map((t) => t.name),
          ["b", "a"],
        );
        await store.setPregenerate(c.moduleId, [a.id]);
        assert.deepEqual(await store.listPregenerate(c.moduleId), [a]);
        await store.setPregenerate(c.moduleId, []);
        assert.deepEqual(await store.listPregenerate(c.moduleId), []);
      });

      it("replaces an owner's template list the same way, apart from its modules' lists", async () => {
        const olive = await store.createUser({ name: "olive", isAdmin: false });
        await store.createOrganization({ name: "preorg", ownerUserId: olive.id });
        const c = await push("preorg", "pre-owner");
        const template = (name: string) =>
          store.createTemplate({ owner: "preorg", name, visibility: "public", plugins: [] });
        const a = await template("oa");
        const b = await template("ob");
        assert.deepEqual(await store.listOwnerPregenerate("preorg"), []);
        await store.setOwnerPregenerate("preorg", [b.id, a.id, b.id]);
        assert.deepEqual(
          (await store.listOwnerPregenerate("preorg")).map((t) => t.name),
          ["ob", "oa"],
        );
        assert.deepEqual(await store.listPregenerate(c.moduleId), []);
        await assert.rejects(store.setOwnerPregenerate("nobody", [a.id]));
        await store.setOwnerPregenerate("preorg", []);
        assert.deepEqual(await store.listOwnerPregenerate("preorg"), []);
      });
    });

    it("keeps everything across close and reopen", async () => {
      const alice = await store.createUser({ name: "alice", isAdmin: true });
      const hash = hex(32);
      await store.createToken({ userId: alice.id, hash, note: "" });
      const c1 = await push("acme", "app", { files: [{ path: "a.proto", size: 5, sha256: hex(32) }] });
      await store.createPlugin({ owner: "bufbuild", name: "es", visibility: "public" });
      const t = await store.createTemplate({ owner: "acme", name: "ts", visibility: "public", plugins: [] });
      const tv = await store.createTemplateVersion(t.id, []);
      const key: ArtifactKey = {
        templateId: t.id,
        templateVersion: 1,
        commitId: c1.id,
        scope: "imports_wkt",
        flavour: "go",
      };
      const artifact = await store.putArtifact({ ...key, blob: "b", digest: "d", size: 7, extra: {} });

      await store.close();
      store = await harness.reopen();

      assert.deepEqual(await store.getUserByName("alice"), alice);
      assert.equal((await store.findToken(hash))?.user.id, alice.id);
      assert.deepEqual(await store.getCommit(c1.id), c1);
      assert.equal((await store.listCommitFiles(c1.id)).length, 1);
      assert.equal((await store.getLabel(c1.moduleId, "main"))?.commitId, c1.id);
      assert.ok(await store.getPlugin("bufbuild", "es"));
      assert.deepEqual(await store.getTemplateVersion(t.id, 1), tv);
      assert.deepEqual(await store.getArtifact(key), artifact);
      assert.equal((await push("acme", "app")).seq, 2);
      assert.equal((await store.createTemplateVersion(t.id, [])).number, 2);
    });
  });
}
