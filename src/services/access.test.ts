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
import { createAccessPolicy, includesRole, readable } from "./access.js";
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
