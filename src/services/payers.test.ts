import assert from "node:assert/strict";
import { test } from "node:test";
import type { Member, Owner, Role, User } from "../core/types.js";
import { ANONYMOUS } from "../generate/wrappers.js";
import type { Principal } from "./auth.js";
import { createPayers, type PayerStore } from "./payers.js";

const user = (name: string, isAdmin = false): User => ({ id: `u-${name}`, name, isAdmin, createdAt: "" });
const users = [user("admin", true), user("bob"), user("alice"), user("carol")];

/** Owners and organization members, in ten lines: what the payers read. */
function fakeStore(orgs: Record<string, [string, Role][]>): PayerStore {
  const byName = new Map(users.map((u) => [u.name, u]));
  return {
    getOwner: async (name): Promise<Owner | undefined> =>
      byName.has(name) ? { name, kind: "user" } : name in orgs ? { name, kind: "organization" } : undefined,
    getOrganization: async (name) => (name in orgs ? { id: `o-${name}`, name, createdAt: "" } : undefined),
    listMembers: async (id): Promise<Member[]> =>
      (orgs[id.slice(2)] ?? []).map(([name, role]) => ({ user: byName.get(name) ?? user(name), role })),
    getUserByName: async (name) => byName.get(name),
  };
}

const payers = createPayers(
  fakeStore({
    bobx: [
      ["bob", "owner"],
      ["alice", "reader"],
    ],
    // Created by an admin, then handed to bob as a writer: bob still pays for it.
    handed: [
      ["admin", "owner"],
      ["bob", "writer"],
      ["carol", "reader"],
    ],
    shared: [
      ["bob", "owner"],
      ["carol", "owner"],
      ["alice", "writer"],
    ],
    builtin: [["admin", "owner"]],
  }),
);
const as = (name: string): Principal => ({ user: users.find((u) => u.name === name) ?? user(name) });

test("payers: an organization is paid by its owners, so bob and his organization share one account", async () => {
  assert.deepEqual(await payers.of({}, ["bob", "bobx"]), [ANONYMOUS, "bob"]);
  assert.deepEqual(await payers.accountsOf("bobx"), ["bob"]);
  assert.deepEqual(await payers.accountsOf("shared"), ["bob", "carol"]);
});

test("payers: without a non-admin owner, an organization's writers pay; with neither, nobody", async () => {
  assert.deepEqual(await payers.accountsOf("handed"), ["bob"]);
  assert.deepEqual(await payers.accountsOf("builtin"), []);
  assert.deepEqual(await payers.accountsOf("admin"), [], "an admin pays nothing as an owner");
});

test("payers: the caller pays (every anonymous caller as one), admins included, each account once", async () => {
  assert.deepEqual(await payers.of({}, ["builtin"]), [ANONYMOUS]);
  assert.deepEqual(await payers.of(as("alice"), ["builtin", "builtin"]), ["alice"]);
  assert.deepEqual(await payers.of(as("admin"), ["builtin"]), ["admin"]);
  assert.deepEqual(await payers.of(as("carol"), ["bobx", "handed", "shared"]), ["bob", "carol"]);
  assert.deepEqual(
    await payers.of(as("alice"), ["nobody-yet"]),
    ["alice", "nobody-yet"],
    "an unknown owner pays as itself",
  );
});
