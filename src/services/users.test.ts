// The user rules over fakes of the user store and the token half of auth.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, isRegistryError } from "../core/errors.js";
import type { TokenRecord, User } from "../core/types.js";
import { anonymous, type Principal } from "./auth.js";
import { createUserService } from "./users.js";

const user = (name: string, isAdmin = false): User => ({ id: `u-${name}`, name, isAdmin, createdAt: "" });
const as = (u: User): Principal => ({ user: u, roles: new Map() });

function fixture() {
  const people = [user("root", true), user("ann"), user("bob")];
  const issued: { userId: string; note: string; expiresAt: string | undefined }[] = [];
  const token = (userId: string): TokenRecord => ({ id: "t1", userId, hash: "", note: "ci", createdAt: "" });
  const users = createUserService(
    {
      createUser: async (input) => ({ ...user(input.name, input.isAdmin) }),
      listUsers: async () => people,
      getUserByName: async (name) => people.find((p) => p.name === name),
      getUserById: async (id) => people.find((p) => p.id === id),
    },
    {
      issueToken: async (userId, note, expiresAt) => {
        issued.push({ userId, note, expiresAt });
        return { secret: "pd_secret", token: token(userId) };
      },
      listTokens: async () => [token("u-bob")],
      revokeToken: async () => token("u-bob"),
    },
    () => Date.parse("2026-01-01T00:00:00Z"),
  );
  const [root, ann, bob] = people as [User, User, User];
  return { users, issued, root, ann, bob };
}

const refused = (code: Code) => (e: unknown) => isRegistryError(e, code);

describe("user service", () => {
  it("lets only admins create and list users, with checked names", async () => {
    const { users, root, ann } = fixture();
    assert.equal((await users.createUser(as(root), { name: "carol", isAdmin: false })).name, "carol");
    await assert.rejects(
      users.createUser(as(ann), { name: "carol", isAdmin: false }),
      refused(Code.PermissionDenied),
    );
    await assert.rejects(users.listUsers(anonymous), refused(Code.Unauthenticated));
    await assert.rejects(
      users.createUser(as(root), { name: "Not_A_Name", isAdmin: false }),
      refused(Code.InvalidArgument),
    );
  });

  it("issues a token to the caller, and to another user only for admins", async () => {
    const { users, issued, root, ann } = fixture();
    const own = await users.createToken(as(ann), { user: "", note: "laptop", expireTime: "" });
    assert.equal(own.user.name, "ann");
    assert.equal(own.secret, "pd_secret");
    await assert.rejects(
      users.createToken(as(ann), { user: "bob", note: "", expireTime: "" }),
      refused(Code.PermissionDenied),
    );
    const forBob = await users.createToken(as(root), {
      user: "bob",
      note: "ci",
      expireTime: "2026-06-01T00:00:00Z",
    });
    assert.equal(forBob.user.name, "bob");
    assert.deepEqual(issued.at(-1), { userId: "u-bob", note: "ci", expiresAt: "2026-06-01T00:00:00.000Z" });
    await assert.rejects(
      users.createToken(as(root), { user: "nobody", note: "", expireTime: "" }),
      (e) => isRegistryError(e, Code.NotFound) && /user nobody does not exist/.test(e.message),
    );
    assert.equal(issued.length, 2, "refused requests issued nothing");
  });

  it("names who holds the tokens it lists and revokes", async () => {
    const { users, root, ann } = fixture();
    assert.equal((await users.listTokens(as(ann), "")).holder, "ann");
    assert.equal((await users.listTokens(as(root), "bob")).holder, "bob");
    assert.equal((await users.revokeToken(as(root), "t1")).holder, "bob");
  });
});
