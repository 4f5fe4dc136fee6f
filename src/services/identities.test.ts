// Linked accounts, self-service: a user lists and unlinks their own, an admin anyone's, the last one is kept while
// local sign-in is off, and every unlink is audited.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Code, isRegistryError } from "../core/errors.js";
import type { User } from "../core/types.js";
import type { MetadataStore } from "../storage/meta/metadata-store.js";
import { createSqliteMetadataStore } from "../storage/meta/sqlite/sqlite-metadata-store.js";
import type { AuditChange } from "./audit.js";
import { createIdentityService } from "./identities.js";

const corp = { name: "corp", issuer: "https://corp.example/" };
const other = { name: "other", issuer: "https://other.example" };

describe("identity service", () => {
  let dir: string;
  let meta: MetadataStore;
  const users: Record<string, User> = {};
  const changes: AuditChange[] = [];
  const as = (name: string, scopes?: string[]) => ({
    user: users[name] as User,
    ...(scopes ? { scopes } : {}),
  });
  const service = (localSignIn: boolean) =>
    createIdentityService({
      store: meta,
      providers: [corp, other],
      localSignIn,
      audit: { record: async (_p, change) => void changes.push(change) },
    });
  const is = (code: Code, text?: RegExp) => (err: unknown) =>
    isRegistryError(err, code) && (!text || text.test(err.message));

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "protodepot-identities-"));
    meta = await createSqliteMetadataStore({ path: join(dir, "m.sqlite") });
    for (const name of ["root", "ann", "ben"])
      users[name] = await meta.createUser({ name, isAdmin: name === "root" });
    await meta.linkIdentity({
      issuer: "https://corp.example",
      subject: "ann-1",
      userId: users.ann?.id ?? "",
    });
    await meta.linkIdentity({ issuer: other.issuer, subject: "ann-2", userId: users.ann?.id ?? "" });
    await meta.linkIdentity({ issuer: other.issuer, subject: "ben-1", userId: users.ben?.id ?? "" });
  });
  after(async () => {
    await meta.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("lists the caller's accounts with their provider; others' for admins only", async () => {
    const strict = service(false);
    const mine = await strict.list(as("ann"));
    assert.deepEqual(
      mine.map((i) => [i.provider, i.subject]),
      [
        ["corp", "ann-1"],
        ["other", "ann-2"],
      ],
    );
    await assert.rejects(strict.list(as("ben"), "ann"), is(Code.PermissionDenied, /admins only/));
    assert.equal((await strict.list(as("root"), "ann")).length, 2);
    await assert.rejects(strict.list(as("root"), "nobody"), is(Code.NotFound));
    await assert.rejects(strict.list({}), is(Code.Unauthenticated));
  });

  it("unlinks by provider name or issuer, keeps the last one while local sign-in is off, and audits", async () => {
    const strict = service(false);
    await assert.rejects(strict.unlink(as("ann", ["read"]), "corp"), is(Code.PermissionDenied));
    await assert.rejects(strict.unlink(as("ben"), "corp", "ann"), is(Code.PermissionDenied));
    await assert.rejects(strict.unlink(as("ann"), "okta"), is(Code.NotFound, /linked: corp, other/));
    const gone = await strict.unlink(as("ann"), "corp");
    assert.deepEqual(
      gone.map((i) => i.subject),
      ["ann-1"],
    );
    assert.deepEqual(changes.at(-1), {
      action: "identity.unlink",
      target: "user ann",
      owner: "ann",
      before: { issuer: "https://corp.example", subject: "ann-1", provider: "corp" },
    });
    await assert.rejects(
      strict.unlink(as("ann"), "https://other.example/"),
      is(Code.FailedPrecondition, /only way to sign in.*auth\.localSignIn: false/),
    );
    await assert.rejects(strict.unlink(as("root"), "other", "ben"), is(Code.FailedPrecondition));
    assert.equal(changes.length, 1);
    // With local sign-in on, a token still signs in: the last account may go, here by an admin.
    await service(true).unlink(as("root"), "other", "ben");
    assert.deepEqual(await meta.listIdentities(users.ben?.id ?? ""), []);
    assert.equal(changes.length, 2);
  });
});
