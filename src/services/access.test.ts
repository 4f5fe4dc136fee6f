// The access policy's rules, over a real SQLite store: roles, visibility, anonymous reads, writes.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Code, isRegistryError, RegistryError } from "../core/errors.js";
import type { User } from "../core/types.js";
import type { MetadataStore } from "../storage/meta/metadata-store.js";
import { createSqliteMetadataStore } from "../storage/meta/sqlite/sqlite-metadata-store.js";
import { type AccessStore, createAccessPolicy, includesRole, readable } from "./access.js";
import { anonymous, type Principal } from "./auth.js";

const caller = (user: User): Principal => ({ user, roles: new Map() });
const hidden = () => new RegistryError(Code.NotFound, "thing does not exist");

describe("access policy", () => {
  let dir: string;
  let meta: MetadataStore;
  const users: Record<string, User> = {};

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "protodepot-access-"));
    meta = await createSqliteMetadataStore({ path: join(dir, "m.sqlite") });
    for (const name of ["root", "olivia", "walt", "rita", "otto"]) {
      users[name] = await meta.createUser({ name, isAdmin: name === "root" });
    }
    const acme = await meta.createOrganization({ name: "acme", ownerUserId: users.olivia?.id ?? "" });
    await meta.setMember(acme.id, users.walt?.id ?? "", "writer");
    await meta.setMember(acme.id, users.rita?.id ?? "", "reader");
  });
  after(async () => {
    await meta.close();
    await rm(dir, { recursive: true, force: true });
  });

  const get = (name: string) => {
    const user = users[name];
    assert.ok(user);
    return caller(user);
  };

  it("orders roles owner > writer > reader", () => {
    assert.equal(includesRole("owner", "reader"), true);
    assert.equal(includesRole("writer", "writer"), true);
    assert.equal(includesRole("reader", "writer"), false);
    assert.equal(includesRole(undefined, "reader"), false);
  });

  it("gives admins and a user under their own name the owner role, members their role", async () => {
    const access = createAccessPolicy(meta, { anonymousRead: true });
    assert.equal(await access.roleOf(get("root"), "acme"), "owner");
    assert.equal(await access.roleOf(get("otto"), "otto"), "owner");
    assert.equal(await access.roleOf(get("walt"), "acme"), "writer");
    assert.equal(await access.roleOf(get("rita"), "acme"), "reader");
    assert.equal(await access.roleOf(get("otto"), "acme"), undefined);
    assert.equal(await access.roleOf(anonymous, "acme"), undefined);
  });

  it("lets members read private things and everyone public ones", async () => {
    const access = createAccessPolicy(meta, { anonymousRead: true });
    const secret = { owner: "acme", visibility: "private" } as const;
    const open = { owner: "acme", visibility: "public" } as const;
    for (const name of ["root", "olivia", "walt", "rita"])
      assert.equal(await access.canRead(get(name), secret), true);
    assert.equal(await access.canRead(get("otto"), secret), false);
    assert.equal(await access.canRead(anonymous, secret), false);
    assert.equal(await access.canRead(anonymous, open), true);
    await assert.rejects(access.checkRead(get("otto"), secret, hidden), (e) =>
      isRegistryError(e, Code.NotFound),
    );
    const listed = await readable(access, get("otto"), [
      { owner: "acme", visibility: "private", id: 1 },
      { owner: "acme", visibility: "public", id: 2 },
      { owner: "otto", visibility: "private", id: 3 },
    ] as const);
    assert.deepEqual(
      listed.map((t) => t.id),
      [2, 3],
    );
  });

  it("without anonymous reads, anonymous callers are asked for a token, not told things are missing", async () => {
    const access = createAccessPolicy(meta, { anonymousRead: false });
    const open = { owner: "acme", visibility: "public" } as const;
    assert.equal(await access.canRead(anonymous, open), false);
    assert.equal(await access.canRead(get("otto"), open), true);
    await assert.rejects(access.checkRead(anonymous, open, hidden), (e) =>
      isRegistryError(e, Code.Unauthenticated),
    );
    assert.throws(
      () => access.checkCanList(anonymous),
      (e) => isRegistryError(e, Code.Unauthenticated),
    );
  });

  it("lets writers and owners write, refuses readers and outsiders, and unknown owners", async () => {
    const access = createAccessPolicy(meta, { anonymousRead: true });
    assert.equal((await access.requireWrite(get("walt"), "acme", "push")).name, "walt");
    assert.equal((await access.requireWrite(get("root"), "acme", "push")).name, "root");
    for (const name of ["rita", "otto"]) {
      await assert.rejects(access.requireWrite(get(name), "acme", "push"), (e) =>
        isRegistryError(e, Code.PermissionDenied),
      );
    }
    await assert.rejects(access.requireWrite(anonymous, "acme", "push"), (e) =>
      isRegistryError(e, Code.Unauthenticated),
    );
    await assert.rejects(access.requireWrite(get("root"), "nobody", "push"), (e) => {
      assert.ok(isRegistryError(e, Code.NotFound));
      assert.match(e.message, /owner nobody does not exist/);
      return true;
    });
    await assert.rejects(access.requireManage(get("walt"), "acme", "manage members"), (e) =>
      isRegistryError(e, Code.PermissionDenied),
    );
    assert.equal((await access.requireManage(get("olivia"), "acme", "manage members")).name, "olivia");
  });
});

describe("readOwned: hidden answers as missing", () => {
  // A fake of the two lookups the policy makes: acme is an organization where rita reads.
  const store: AccessStore = {
    getOwner: async (name) => (name === "acme" ? { name, kind: "organization" } : undefined),
    getMemberRole: async (org, userId) => (org === "acme" && userId === "u-rita" ? "reader" : undefined),
  };
  const user = (name: string): Principal => ({
    user: { id: `u-${name}`, name, isAdmin: false, createdAt: "" },
    roles: new Map(),
  });
  const missing = () => new RegistryError(Code.NotFound, "module acme/secret does not exist");
  const secret = { owner: "acme", visibility: "private", id: "m1" } as const;
  const open = { owner: "acme", visibility: "public", id: "m2" } as const;
  const sameAnswer = async (run: () => Promise<unknown>, code: Code) => {
    const err = await run().then(
      () => assert.fail("expected a refusal"),
      (e: unknown) => e,
    );
    assert.ok(isRegistryError(err, code), String(err));
    return { code: err.code, message: err.message, fields: err.fields };
  };

  it("returns what the caller may read", async () => {
    const access = createAccessPolicy(store, { anonymousRead: true });
    assert.equal(await access.readOwned(user("rita"), secret, missing), secret);
    assert.equal(await access.readOwned(anonymous, open, missing), open);
    assert.equal(await access.readOwned(user("otto"), open, missing), open);
  });

  it("answers a hidden thing exactly as a missing one", async () => {
    const access = createAccessPolicy(store, { anonymousRead: true });
    for (const caller of [user("otto"), anonymous]) {
      const hiddenAnswer = await sameAnswer(() => access.readOwned(caller, secret, missing), Code.NotFound);
      const missingAnswer = await sameAnswer(
        () => access.readOwned(caller, undefined, missing),
        Code.NotFound,
      );
      assert.deepEqual(hiddenAnswer, missingAnswer);
    }
    // A reader of the owner is told the truth: missing is missing.
    await sameAnswer(() => access.readOwned(user("rita"), undefined, missing), Code.NotFound);
  });

  it("asks an anonymous caller for a token, missing or not, when anonymous reads are off", async () => {
    const access = createAccessPolicy(store, { anonymousRead: false });
    const forMissing = await sameAnswer(
      () => access.readOwned(anonymous, undefined, missing),
      Code.Unauthenticated,
    );
    const forPublic = await sameAnswer(
      () => access.readOwned(anonymous, open, missing),
      Code.Unauthenticated,
    );
    const forHidden = await sameAnswer(
      () => access.readOwned(anonymous, secret, missing),
      Code.Unauthenticated,
    );
    assert.deepEqual(forMissing, forPublic);
    assert.deepEqual(forMissing, forHidden);
  });
});
