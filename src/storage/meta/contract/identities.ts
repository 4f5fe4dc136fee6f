// The metadata store contract: provider accounts linked to users and the roles group mappings grant (docs/sso.md).
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { Code } from "../../../core/errors.js";
import type { MetadataStore } from "../metadata-store.js";
import { isCode, type Suite } from "./support.js";

export function identitiesCases(suite: Suite): void {
  describe("provider identities and mapped roles", () => {
    const idp = "https://idp.example.com";
    let store: MetadataStore;
    beforeEach(() => {
      store = suite.store();
    });

    it("links a provider account to one user, once", async () => {
      const alice = await store.createUser({ name: "alice", isAdmin: false });
      assert.equal(await store.findIdentity(idp, "sub-1"), undefined);
      await store.linkIdentity({ issuer: idp, subject: "sub-1", userId: alice.id });
      assert.equal((await store.findIdentity(idp, "sub-1"))?.name, "alice");
      assert.equal(await store.findIdentity("https://other.example.com", "sub-1"), undefined);
      const bob = await store.createUser({ name: "bob", isAdmin: false });
      await assert.rejects(
        store.linkIdentity({ issuer: idp, subject: "sub-1", userId: bob.id }),
        isCode(Code.AlreadyExists),
      );
      assert.equal((await store.findIdentity(idp, "sub-1"))?.name, "alice");
    });

    it("lists a user's linked accounts with their last sign-in, and unlinks one of that user only", async () => {
      const alice = await store.createUser({ name: "alice", isAdmin: false });
      const bob = await store.createUser({ name: "bob", isAdmin: false });
      await store.linkIdentity({ issuer: idp, subject: "sub-a", userId: alice.id });
      await store.linkIdentity({ issuer: "https://b.example.com", subject: "sub-b", userId: alice.id });
      const listed = await store.listIdentities(alice.id);
      assert.deepEqual(
        listed.map((i) => [i.issuer, i.subject, i.lastSignInAt]),
        [
          ["https://b.example.com", "sub-b", undefined],
          [idp, "sub-a", undefined],
        ],
      );
      assert.ok(listed.every((i) => i.linkedAt));
      await store.touchIdentity(idp, "sub-a");
      const touched = (await store.listIdentities(alice.id)).find((i) => i.subject === "sub-a");
      assert.ok(touched?.lastSignInAt && touched.lastSignInAt >= touched.linkedAt);
      assert.equal(await store.unlinkIdentity(bob.id, idp, "sub-a"), false, "not bob's");
      assert.equal(await store.unlinkIdentity(alice.id, idp, "sub-a"), true);
      assert.equal(await store.unlinkIdentity(alice.id, idp, "sub-a"), false);
      assert.equal(await store.findIdentity(idp, "sub-a"), undefined);
      assert.deepEqual(
        (await store.listIdentities(alice.id)).map((i) => i.subject),
        ["sub-b"],
      );
      assert.deepEqual(await store.listIdentities(bob.id), []);
    });

    it("grants and takes back only the roles its issuer granted, never those given by hand", async () => {
      const alice = await store.createUser({ name: "alice", isAdmin: false });
      const bob = await store.createUser({ name: "bob", isAdmin: false });
      const acme = await store.createOrganization({ name: "acme", ownerUserId: alice.id });
      const beta = await store.createOrganization({ name: "beta", ownerUserId: alice.id });
      assert.equal(await store.setMappedRole(acme.id, bob.id, "reader", idp), true);
      assert.equal(await store.setMappedRole(acme.id, bob.id, "writer", idp), true);
      assert.equal(await store.getMemberRole("acme", bob.id), "writer");
      assert.deepEqual(await store.listMappedRoles(bob.id, idp), [
        { orgId: acme.id, org: "acme", role: "writer" },
      ]);
      // Alice's owner role was given when she created acme: no mapping touches it.
      assert.equal(await store.setMappedRole(acme.id, alice.id, "reader", idp), false);
      assert.equal(await store.removeMappedRole(acme.id, alice.id, idp), false);
      assert.equal(await store.getMemberRole("acme", alice.id), "owner");
      // Another issuer's grant is that issuer's.
      assert.equal(await store.setMappedRole(acme.id, bob.id, "owner", "https://other.example.com"), false);
      assert.equal(await store.removeMappedRole(acme.id, bob.id, "https://other.example.com"), false);
      assert.equal(await store.getMemberRole("acme", bob.id), "writer");
      // A role set by hand over a mapped one becomes the hand's.
      await store.setMappedRole(beta.id, bob.id, "reader", idp);
      await store.setMember(beta.id, bob.id, "reader");
      assert.equal(await store.removeMappedRole(beta.id, bob.id, idp), false);
      assert.equal(await store.getMemberRole("beta", bob.id), "reader");
      assert.deepEqual(
        (await store.listMappedRoles(bob.id, idp)).map((r) => r.org),
        ["acme"],
      );
      assert.equal(await store.removeMappedRole(acme.id, bob.id, idp), true);
      assert.equal(await store.getMemberRole("acme", bob.id), undefined);
      assert.deepEqual(await store.listMappedRoles(bob.id, idp), []);
    });
  });
}
