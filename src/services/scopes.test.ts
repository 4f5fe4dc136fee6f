// Token scopes: the canonical form, and the access policy applying them to every write (over a fake store).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, isRegistryError } from "../core/errors.js";
import type { Role, User } from "../core/types.js";
import { createAccessPolicy } from "./access.js";
import type { Principal } from "./auth.js";
import { parseScopes, requireUnscoped, scopeAllowsWrite } from "./scopes.js";

const walt: User = { id: "u-walt", name: "walt", isAdmin: false, createdAt: "" };
const root: User = { id: "u-root", name: "root", isAdmin: true, createdAt: "" };
// walt writes acme and widgets; nobody else is a member of anything.
const roles: Record<string, Role> = { acme: "writer", widgets: "writer" };
const access = createAccessPolicy(
  {
    getOwner: async (name) => (name === "nobody" ? undefined : { name, kind: "organization" }),
    getMemberRole: async (org, userId) => (userId === walt.id ? roles[org] : undefined),
  },
  { anonymousRead: true },
);
const as = (user: User, scopes?: string[]): Principal => ({
  user,
  roles: new Map(),
  ...(scopes ? { scopes } : {}),
});
const denied = (pattern: RegExp) => (e: unknown) =>
  isRegistryError(e, Code.PermissionDenied) && pattern.test(e.message);

describe("token scopes", () => {
  it("canonicalizes: sorted, deduplicated, read dropped beside writes, modules folded into their owner", () => {
    assert.deepEqual(parseScopes([]), []);
    assert.deepEqual(parseScopes(["read", "read"]), ["read"]);
    assert.deepEqual(parseScopes(["write:acme/bb", "read", "write:acme/aa", "write:acme/aa"]), [
      "write:acme/aa",
      "write:acme/bb",
    ]);
    assert.deepEqual(parseScopes(["write:acme/aa", "write:acme", "write:zeta/xx"]), [
      "write:acme",
      "write:zeta/xx",
    ]);
    for (const bad of ["write", "admin", "write:", "write:Acme", "write:acme/", "write:a/b/c", "read:acme"]) {
      assert.throws(
        () => parseScopes([bad]),
        (e) => isRegistryError(e, Code.InvalidArgument),
        bad,
      );
    }
    assert.throws(
      () => parseScopes(Array.from({ length: 33 }, (_, i) => `write:acme/m${i}`)),
      (e) => isRegistryError(e, Code.InvalidArgument),
    );
  });

  it("allows writes by owner or by module, and none to a read-only token", () => {
    assert.equal(scopeAllowsWrite(undefined, "acme", "a"), true);
    assert.equal(scopeAllowsWrite([], "acme"), true);
    assert.equal(scopeAllowsWrite(["read"], "acme", "a"), false);
    assert.equal(scopeAllowsWrite(["write:acme"], "acme", "a"), true);
    assert.equal(scopeAllowsWrite(["write:acme"], "acme"), true);
    assert.equal(scopeAllowsWrite(["write:acme/a"], "acme", "a"), true);
    assert.equal(scopeAllowsWrite(["write:acme/a"], "acme", "b"), false);
    // An owner-wide change (a plugin, a template, a member) needs the owner's scope.
    assert.equal(scopeAllowsWrite(["write:acme/a"], "acme"), false);
    assert.equal(scopeAllowsWrite(["write:acme/a"], "widgets", "a"), false);
  });

  it("refuses a read-only token every write with a message that names its scope", async () => {
    const readOnly = as(walt, ["read"]);
    await assert.rejects(
      access.requireWrite(readOnly, "acme", "push to modules", "a"),
      denied(/scope is read/),
    );
    await assert.rejects(
      access.requireManage(as(root, ["read"]), "acme", "change push policies"),
      denied(/read/),
    );
    // Reads are unaffected.
    assert.equal(await access.canRead(readOnly, { owner: "acme", visibility: "private" }), true);
  });

  it("lets a module-scoped token write its module only, and never more than its user may", async () => {
    const ci = as(walt, ["write:acme/payments"]);
    assert.equal((await access.requireWrite(ci, "acme", "push to modules", "payments")).name, "walt");
    await assert.rejects(
      access.requireWrite(ci, "acme", "push to modules", "ledger"),
      denied(/write:acme\/payments.*write:acme or write:acme\/ledger/),
    );
    await assert.rejects(access.requireWrite(ci, "acme", "create plugins"), denied(/write:acme\/payments/));
    await assert.rejects(access.requireWrite(ci, "widgets", "push to modules", "payments"), denied(/scope/));
    // The scope narrows the user's rights; it never widens them (walt is no owner of acme).
    await assert.rejects(
      access.requireManage(ci, "acme", "change push policies", "payments"),
      denied(/needs an owner of acme/),
    );
    const ownerWide = as(walt, ["write:acme"]);
    assert.equal((await access.requireWrite(ownerWide, "acme", "create plugins")).name, "walt");
  });

  it("decides from the names alone, so a refusal reads the same whether the owner exists or not", async () => {
    const ci = as(walt, ["write:acme/payments"]);
    await assert.rejects(access.requireWrite(ci, "nobody", "push to modules", "x"), denied(/scope/));
  });

  it("keeps account changes for tokens without a scope", () => {
    assert.doesNotThrow(() => requireUnscoped(undefined, "creating tokens"));
    assert.doesNotThrow(() => requireUnscoped([], "creating tokens"));
    assert.throws(
      () => requireUnscoped(["write:acme"], "creating tokens"),
      denied(/scope is write:acme: creating tokens needs a token without a scope/),
    );
  });
});
