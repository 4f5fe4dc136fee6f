// The sign-in rules over a real SQLite store: just-in-time users from claims, name clashes, linking, and group
// mappings that grant roles and take back only what they granted.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { Code, isRegistryError } from "../core/errors.js";
import type { MetadataStore } from "../storage/meta/metadata-store.js";
import { createSqliteMetadataStore } from "../storage/meta/sqlite/sqlite-metadata-store.js";
import type { AuditChange, AuditTrail } from "./audit.js";
import {
  createSsoAccounts,
  groupsOf,
  mappedRoles,
  type ProviderRules,
  type SsoAccounts,
} from "./sso-accounts.js";

const rules: ProviderRules = {
  name: "corp",
  issuer: "https://idp.example.com",
  usernameClaim: "preferred_username",
  groupsClaim: "groups",
  orgMapping: {
    devs: { org: "acme", role: "writer" },
    leads: [
      { org: "acme", role: "owner" },
      { org: "tools", role: "reader" },
    ],
    ghosts: { org: "nowhere", role: "reader" },
  },
  linkExistingUsers: false,
};
const isCode = (code: Code, text: RegExp) => (err: unknown) =>
  isRegistryError(err, code) && text.test(err.message);

describe("sso accounts", () => {
  let dir: string;
  let meta: MetadataStore;
  let recorded: AuditChange[];
  let warnings: object[];
  let accounts: SsoAccounts;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "protodepot-sso-"));
    meta = await createSqliteMetadataStore({ path: join(dir, "m.sqlite") });
    recorded = [];
    warnings = [];
    const audit: Pick<AuditTrail, "appendIn" | "record"> = {
      appendIn: async (tx, _p, c) => {
        await tx.appendAudit({
          at: new Date().toISOString(),
          action: c.action,
          actor: "",
          target: c.target,
          count: 1,
        });
      },
      record: async (_p, c) => {
        recorded.push(c);
      },
    };
    accounts = createSsoAccounts({ store: meta, audit, log: { warn: (fields) => warnings.push(fields) } });
    const root = await meta.createUser({ name: "root", isAdmin: true });
    await meta.createOrganization({ name: "acme", ownerUserId: root.id });
    await meta.createOrganization({ name: "tools", ownerUserId: root.id });
  });
  afterEach(async () => {
    await meta.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("maps groups to the highest role per organization and reads only string groups", () => {
    assert.deepEqual(
      [...mappedRoles(rules, ["devs", "leads", "other"])],
      [
        ["acme", "owner"],
        ["tools", "reader"],
      ],
    );
    assert.deepEqual([...mappedRoles(rules, ["toString", "__proto__"])], []);
    assert.deepEqual(groupsOf({ groups: ["a", 3, "b"] }, "groups"), ["a", "b"]);
    assert.deepEqual(groupsOf({ groups: "a" }, "groups"), []);
  });

  it("provisions a user from the username claim, then knows the account by its subject", async () => {
    const first = await accounts.signIn(rules, { sub: "s1", preferred_username: "ann" }, undefined);
    assert.equal(first.created, true);
    assert.equal(first.user.name, "ann");
    // The provider renamed the account: it is still ann here.
    const again = await accounts.signIn(rules, { sub: "s1", preferred_username: "ann-b" }, undefined);
    assert.equal(again.created, false);
    assert.equal(again.user.id, first.user.id);
    assert.equal(await meta.getUserByName("ann-b"), undefined);
  });

  it("refuses names that break the owner-name rules or are missing, naming the claim to change", async () => {
    await assert.rejects(
      accounts.signIn(rules, { sub: "s1", preferred_username: "Ann.Smith@corp" }, undefined),
      isCode(Code.FailedPrecondition, /not a valid user name.*usernameClaim/),
    );
    await assert.rejects(
      accounts.signIn(rules, { sub: "s1" }, undefined),
      isCode(Code.FailedPrecondition, /sent no preferred_username claim/),
    );
    await assert.rejects(
      accounts.signIn(rules, { preferred_username: "ann" }, undefined),
      isCode(Code.Unauthenticated, /no subject/),
    );
    assert.equal(await meta.getUserByName("ann"), undefined);
  });

  it("refuses a name taken by a local user or an organization, unless linking people by name is allowed", async () => {
    const bob = await meta.createUser({ name: "bob", isAdmin: false });
    await assert.rejects(
      accounts.signIn(rules, { sub: "s2", preferred_username: "bob" }, undefined),
      isCode(Code.FailedPrecondition, /belongs to an existing user.*linkExistingUsers/),
    );
    await assert.rejects(
      accounts.signIn(rules, { sub: "s3", preferred_username: "acme" }, undefined),
      isCode(Code.FailedPrecondition, /taken by an organization/),
    );
    const linking = { ...rules, linkExistingUsers: true };
    // Never an admin, even when linking is on.
    await assert.rejects(
      accounts.signIn(linking, { sub: "s4", preferred_username: "root" }, undefined),
      isCode(Code.FailedPrecondition, /existing user/),
    );
    const linked = await accounts.signIn(linking, { sub: "s2", preferred_username: "bob" }, undefined);
    assert.equal(linked.user.id, bob.id);
    assert.equal(linked.created, false);
    assert.equal((await meta.findIdentity(rules.issuer, "s2"))?.id, bob.id);
  });

  it("grants mapped roles, takes back only those when the groups go, and leaves hand-given roles alone", async () => {
    const first = await accounts.signIn(
      rules,
      { sub: "s1", preferred_username: "ann", groups: ["devs", "ghosts"] },
      undefined,
    );
    assert.deepEqual(first.granted, [{ org: "acme", role: "writer" }]);
    assert.deepEqual(warnings, [{ provider: "corp", org: "nowhere" }]);
    const ann = first.user;
    await meta.setMember((await meta.getOrganization("tools"))?.id ?? "", ann.id, "writer");
    const promoted = await accounts.signIn(rules, { sub: "s1", groups: ["leads"] }, undefined);
    // tools was given by hand (writer): the mapping's reader does not replace it.
    assert.deepEqual(promoted.granted, [{ org: "acme", role: "owner" }]);
    assert.equal(await meta.getMemberRole("tools", ann.id), "writer");
    const gone = await accounts.signIn(rules, { sub: "s1", groups: [] }, undefined);
    assert.deepEqual(gone.removed, ["acme"]);
    assert.equal(await meta.getMemberRole("acme", ann.id), undefined);
    assert.equal(await meta.getMemberRole("tools", ann.id), "writer");
    assert.deepEqual(
      recorded.map((c) => [c.action, c.target]),
      [
        ["member.set", "member ann of acme"],
        ["member.set", "member ann of acme"],
        ["member.remove", "member ann of acme"],
      ],
    );
  });
});
