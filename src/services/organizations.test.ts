// Organizations over a real SQLite store: the per-user cap (auth.maxOrgsPerUser), and deleting only empty ones.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Code, isRegistryError } from "../core/errors.js";
import type { User } from "../core/types.js";
import type { MetadataStore } from "../storage/meta/metadata-store.js";
import { createSqliteMetadataStore } from "../storage/meta/sqlite/sqlite-metadata-store.js";
import { createAccessPolicy } from "./access.js";
import { createOrganizationService } from "./organizations.js";

describe("organizations: at most auth.maxOrgsPerUser owned per user", () => {
  let dir: string;
  let meta: MetadataStore;
  let bob: User;
  let root: User;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "protodepot-orgs-"));
    meta = await createSqliteMetadataStore({ path: join(dir, "m.sqlite") });
    bob = await meta.createUser({ name: "bob", isAdmin: false });
    root = await meta.createUser({ name: "root", isAdmin: true });
  });
  after(async () => {
    await meta.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("refuses a user's third owned organization with a 413-class error; membership without ownership is free; admins are not limited", async () => {
    const access = createAccessPolicy(meta, { anonymousRead: true });
    const orgs = createOrganizationService(meta, { access, allowOrgCreation: true, maxOrgsPerUser: 2 });
    const asBob = { user: bob, roles: new Map() };
    await orgs.create(asBob, "bobx");
    // An organization bob writes to but does not own does not count.
    const other = await orgs.create({ user: root }, "other");
    await meta.setMember(other.id, bob.id, "writer");
    await orgs.create(asBob, "boby");
    await assert.rejects(orgs.create(asBob, "bobz"), (err: unknown) => {
      assert.ok(isRegistryError(err, Code.ResourceExhausted));
      assert.match(
        err.message,
        /bob already owns 2 organizations; a user may own at most 2 \(auth.maxOrgsPerUser\)/,
      );
      return true;
    });
    assert.equal(await meta.getOrganization("bobz"), undefined);
    for (const name of ["r1", "r2", "r3"]) await orgs.create({ user: root }, name);
    assert.equal((await meta.listOrganizations(root.id)).length, 4);
  });

  it("deletes an organization for its owners only, and only while it owns nothing", async () => {
    const access = createAccessPolicy(meta, { anonymousRead: true });
    const orgs = createOrganizationService(meta, { access, allowOrgCreation: true });
    const carol = await meta.createUser({ name: "carol", isAdmin: false });
    const asCarol = { user: carol, roles: new Map() };
    const full = await orgs.create(asCarol, "carolfull");
    await orgs.create(asCarol, "carolempty");
    await meta.setMember(full.id, bob.id, "writer");
    await meta.createModule({ owner: "carolfull", name: "app", visibility: "private", defaultLabel: "main" });
    await assert.rejects(orgs.delete({ user: bob, roles: new Map() }, "carolfull"), (err: unknown) =>
      isRegistryError(err, Code.PermissionDenied),
    );
    await assert.rejects(orgs.delete(asCarol, "carolfull"), (err: unknown) => {
      assert.ok(isRegistryError(err, Code.FailedPrecondition));
      assert.match(err.message, /carolfull still owns modules/);
      return true;
    });
    assert.ok(await meta.getOrganization("carolfull"));
    await orgs.delete(asCarol, "carolempty");
    assert.equal(await meta.getOrganization("carolempty"), undefined);
    await assert.rejects(orgs.delete(asCarol, "carolempty"), (err: unknown) =>
      isRegistryError(err, Code.NotFound),
    );
    await assert.rejects(orgs.delete(asCarol, "carol"), (err: unknown) =>
      isRegistryError(err, Code.NotFound),
    );
  });
});
