// Web sessions: signing out deletes the session's own token, and nothing else.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { MetadataStore } from "../storage/meta/metadata-store.js";
import { createSqliteMetadataStore } from "../storage/meta/sqlite/sqlite-metadata-store.js";
import { type AuthService, createAuthService } from "./auth.js";

describe("web sessions", () => {
  let dir: string;
  let meta: MetadataStore;
  let auth: AuthService;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "protodepot-auth-sessions-"));
    meta = await createSqliteMetadataStore({ path: join(dir, "meta.sqlite") });
    auth = createAuthService(meta);
  });
  after(async () => {
    await meta.close();
    await rm(dir, { recursive: true, force: true });
  });

  const later = () => new Date(Date.now() + 3600_000).toISOString();

  it("closes a session by deleting its token row", async () => {
    const alice = await meta.createUser({ name: "alice", isAdmin: false });
    const secret = await auth.openSession(alice.id, "web session", later());
    const principal = await auth.authenticate(`Bearer ${secret}`);
    assert.equal(await auth.closeSession(principal, "web session"), true);
    assert.deepEqual(await meta.listTokens(alice.id), []);
    await assert.rejects(auth.authenticate(`Bearer ${secret}`), /invalid token/);
    assert.equal(await auth.closeSession(principal, "web session"), false);
  });

  it("never deletes a token that is not the caller's session", async () => {
    const bob = await meta.createUser({ name: "bob", isAdmin: false });
    const { secret } = await auth.issueToken(bob.id, "laptop");
    const principal = await auth.authenticate(`Bearer ${secret}`);
    assert.equal(await auth.closeSession(principal, "web session"), false);
    assert.deepEqual(
      (await meta.listTokens(bob.id)).map((t) => t.note),
      ["laptop"],
    );
    const carol = await meta.createUser({ name: "carol", isAdmin: false });
    const session = await auth.openSession(carol.id, "web session", later());
    const carolSession = await auth.authenticate(`Bearer ${session}`);
    // A principal naming carol's session but another user: refused.
    assert.equal(
      await auth.closeSession(
        { user: bob, ...(carolSession.tokenId ? { tokenId: carolSession.tokenId } : {}) },
        "web session",
      ),
      false,
    );
    assert.equal((await meta.listTokens(carol.id)).length, 1);
  });

  it("deletes the oldest sessions beyond the cap when one more opens", async () => {
    const dan = await meta.createUser({ name: "dan", isAdmin: false });
    for (let i = 0; i < 11; i++) await auth.openSession(dan.id, "web session", later());
    const tokens = await meta.listTokens(dan.id);
    assert.equal(tokens.length, 10);
    assert.ok(tokens.every((t) => !t.revokedAt));
  });
});
