// The metadata store contract: owners and organizations (run by runMetadataStoreSuite on every driver).
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { Code } from "../../../core/errors.js";
import type { MetadataStore } from "../metadata-store.js";
import { isCode, type Suite } from "./support.js";

export function ownersAndOrganizationsCases(suite: Suite): void {
  describe("owners and organizations", () => {
    let store: MetadataStore;
    beforeEach(() => {
      store = suite.store();
    });

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
      assert.equal(await store.deleteOrganization("botty"), "not-empty", "an organization with a bot stays");
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
}
