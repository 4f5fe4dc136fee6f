// The user rules over fakes of the user store and the token half of auth.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, isRegistryError, RegistryError } from "../core/errors.js";
import type { AuditEvent, TokenRecord, User } from "../core/types.js";
import type { NewToken } from "../storage/meta/metadata-store.js";
import { anonymous, type Principal } from "./auth.js";
import { createUserService } from "./users.js";

const user = (name: string, isAdmin = false): User => ({ id: `u-${name}`, name, isAdmin, createdAt: "" });
const as = (u: User): Principal => ({ user: u, roles: new Map() });

function fixture(maxTokenLifetimeDays = 0) {
  const people = [user("root", true), user("ann"), user("bob"), { ...user("acme-ci"), botOf: "acme" }];
  const issued: {
    userId: string;
    note: string;
    expiresAt: string | undefined;
    scopes: readonly string[] | undefined;
  }[] = [];
  const token = (userId: string): TokenRecord => ({ id: "t1", userId, hash: "", note: "ci", createdAt: "" });
  const botToken: TokenRecord = { id: "t-bot", userId: "u-acme-ci", hash: "", note: "ci", createdAt: "" };
  const revoked: string[] = [];
  const audited: Omit<AuditEvent, "id">[] = [];
  // Each change and its audit event go through the one transaction, as with the real store.
  const tx = {
    createUser: async (input: { name: string; isAdmin: boolean }) => ({ ...user(input.name, input.isAdmin) }),
    createToken: async (input: NewToken) => {
      issued.push({
        userId: input.userId,
        note: input.note,
        expiresAt: input.expiresAt,
        scopes: input.scopes ?? [],
      });
      return token(input.userId);
    },
    revokeToken: async (id: string) => {
      revoked.push(id);
      return true;
    },
    appendAudit: async (event: Omit<AuditEvent, "id">) => {
      audited.push(event);
      return { ...event, id: String(audited.length) };
    },
  };
  const users = createUserService(
    {
      listUsers: async () => people,
      getUserByName: async (name) => people.find((p) => p.name === name),
      getUserById: async (id) => people.find((p) => p.id === id),
      getToken: async (id) => (id === botToken.id ? botToken : id === "t1" ? token("u-bob") : undefined),
      listTokens: async (userId) => (userId === botToken.userId ? [botToken] : []),
      transaction: (fn) => fn(tx),
    },
    {
      // As auth does: another user's tokens are for admins.
      listTokens: async (p, name) => {
        if (name && name !== p.user?.name && !p.user?.isAdmin)
          throw new RegistryError(Code.PermissionDenied, "");
        return [token("u-bob")];
      },
    },
    {
      // ann owns organization acme; bob is its writer.
      access: {
        roleOf: async (p, owner) =>
          owner === "acme" ? ({ ann: "owner", bob: "writer" } as const)[p.user?.name ?? ""] : undefined,
      },
      audit: {
        appendIn: async (tx, p, change) => {
          await tx.appendAudit({
            at: "",
            action: change.action,
            actor: p.user?.name ?? "",
            target: change.target,
            ...(change.owner ? { owner: change.owner } : {}),
            count: 1,
          });
        },
      },
      maxTokenLifetimeDays,
      now: () => Date.parse("2026-01-01T00:00:00Z"),
    },
  );
  const [root, ann, bob, bot] = people as [User, User, User, User];
  return { users, issued, revoked, audited, root, ann, bob, bot };
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
    assert.match(own.secret, /^pd_/, "a fresh secret, returned once (only its hash is stored)");
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
    assert.deepEqual(issued.at(-1), {
      userId: "u-bob",
      note: "ci",
      expiresAt: "2026-06-01T00:00:00.000Z",
      scopes: [],
    });
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

  it("issues scoped tokens in canonical form, and only from a token without a scope", async () => {
    const { users, issued, audited, ann } = fixture();
    await users.createToken(as(ann), {
      user: "",
      note: "ci",
      expireTime: "",
      scopes: ["read", "write:acme/payments", "write:acme/payments"],
    });
    assert.deepEqual(issued.at(-1)?.scopes, ["write:acme/payments"]);
    assert.deepEqual(audited.at(-1)?.action, "token.create");
    const readOnly: Principal = { ...as(ann), scopes: ["read"] };
    await assert.rejects(
      users.createToken(readOnly, { user: "", note: "", expireTime: "" }),
      (e) => isRegistryError(e, Code.PermissionDenied) && /scope is read/.test(e.message),
    );
    await assert.rejects(users.revokeToken(readOnly, "t1"), refused(Code.PermissionDenied));
    await assert.rejects(
      users.createToken(as(ann), { user: "", note: "", expireTime: "", scopes: ["write"] }),
      refused(Code.InvalidArgument),
    );
    assert.equal(issued.length, 1, "refused requests issued nothing");
  });

  it("lets an organization's owners, not its writers nor the bot itself, manage a bot's tokens", async () => {
    const { users, issued, revoked, audited, ann, bob, bot } = fixture();
    const made = await users.createToken(as(ann), { user: "acme-ci", note: "ci", expireTime: "" });
    assert.equal(made.user.name, "acme-ci");
    assert.equal(issued.at(-1)?.userId, bot.id);
    assert.equal(audited.at(-1)?.owner, "acme", "an organization's owners read its bots' token events");
    await assert.rejects(
      users.createToken(as(bob), { user: "acme-ci", note: "", expireTime: "" }),
      refused(Code.PermissionDenied),
    );
    await assert.rejects(
      users.createToken(as(bot), { user: "", note: "", expireTime: "" }),
      (e) => isRegistryError(e, Code.PermissionDenied) && /owners of organization acme/.test(e.message),
    );
    assert.deepEqual(
      (await users.listTokens(as(ann), "acme-ci")).tokens.map((t) => t.id),
      ["t-bot"],
    );
    await assert.rejects(users.listTokens(as(bob), "acme-ci"), refused(Code.PermissionDenied));
    assert.equal((await users.revokeToken(as(ann), "t-bot")).holder, "acme-ci");
    assert.deepEqual(revoked, ["t-bot"]);
    assert.equal(audited.at(-1)?.action, "token.revoke");
  });

  it("gives tokens the server's maximum lifetime and refuses a longer one", async () => {
    const { users, issued, ann } = fixture(30);
    await users.createToken(as(ann), { user: "", note: "", expireTime: "" });
    assert.equal(issued.at(-1)?.expiresAt, "2026-01-31T00:00:00.000Z");
    await users.createToken(as(ann), { user: "", note: "", expireTime: "2026-01-10T00:00:00Z" });
    assert.equal(issued.at(-1)?.expiresAt, "2026-01-10T00:00:00.000Z");
    await assert.rejects(
      users.createToken(as(ann), { user: "", note: "", expireTime: "2026-03-01T00:00:00Z" }),
      (e) => isRegistryError(e, Code.InvalidArgument) && /auth.maxTokenLifetimeDays/.test(e.message),
    );
  });
});
