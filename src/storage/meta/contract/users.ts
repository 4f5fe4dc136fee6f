// The metadata store contract: users and tokens, token lifecycle, token scopes, bots and the audit log (run by runMetadataStoreSuite on every driver).
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { Code, isRegistryError } from "../../../core/errors.js";
import type { MetadataStore } from "../metadata-store.js";
import { hex, isCode, type Suite } from "./support.js";

export function usersAndTokensCases(suite: Suite): void {
  describe("users and tokens", () => {
    let store: MetadataStore;
    beforeEach(() => {
      store = suite.store();
    });

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
}

export function tokenLifecycleCases(suite: Suite): void {
  describe("token lifecycle", () => {
    let store: MetadataStore;
    beforeEach(() => {
      store = suite.store();
    });

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

    it("deletes a token's row, once", async () => {
      const alice = await store.createUser({ name: "alice", isAdmin: false });
      const a1 = await store.createToken({ userId: alice.id, hash: hex(32), note: "web session" });
      const a2 = await store.createToken({ userId: alice.id, hash: hex(32), note: "laptop" });
      assert.equal(await store.deleteToken(a1.id), true);
      assert.equal(await store.deleteToken(a1.id), false);
      assert.equal(await store.getToken(a1.id), undefined);
      assert.equal(await store.findToken(a1.hash), undefined);
      assert.deepEqual(
        (await store.listTokens(alice.id)).map((t) => t.id),
        [a2.id],
      );
    });
  });
}

export function tokenScopeBotAuditCases(suite: Suite): void {
  describe("token scopes, bots and the audit log", () => {
    let store: MetadataStore;
    beforeEach(() => {
      store = suite.store();
    });

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
      await assert.rejects(store.createUser({ name: "acme-ci", isAdmin: false }), isCode(Code.AlreadyExists));
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
}
