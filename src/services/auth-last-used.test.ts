// Recording a token's last use is best effort: a store that cannot write (a full disk) never fails a read.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setImmediate as tick } from "node:timers/promises";
import type { MetadataStore } from "../storage/meta/metadata-store.js";
import { createSqliteMetadataStore } from "../storage/meta/sqlite/sqlite-metadata-store.js";
import { createAuthService } from "./auth.js";

describe("token last use", () => {
  let dir: string;
  let meta: MetadataStore;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "protodepot-auth-touch-"));
    meta = await createSqliteMetadataStore({ path: join(dir, "meta.sqlite") });
  });
  after(async () => {
    await meta.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** The real store, except that writing last_used_at fails as SQLite does on a full disk, while `full` holds. */
  function fullDisk() {
    const state = { full: true, attempts: 0 };
    const store = new Proxy(meta, {
      get(target, key, receiver) {
        if (key !== "touchToken") return Reflect.get(target, key, receiver);
        return async (id: string, at: string) => {
          state.attempts++;
          if (state.full) throw Object.assign(new Error("database or disk is full"), { code: "SQLITE_FULL" });
          return target.touchToken(id, at);
        };
      },
    });
    return { store, state };
  }

  it("authenticates while the write fails, warns once per interval, and records again once space returns", async () => {
    const { store, state } = fullDisk();
    let clock = Date.parse("2026-03-01T00:00:00Z");
    const warnings: object[] = [];
    const auth = createAuthService(store, {
      now: () => clock,
      log: { warn: (fields) => warnings.push(fields) },
    });
    const user = await meta.createUser({ name: "alice", isAdmin: false });
    const { secret, token } = await auth.issueToken(user.id, "test");
    for (let i = 0; i < 5; i++) {
      const principal = await auth.authenticate(`Bearer ${secret}`);
      assert.equal(principal.user?.name, "alice");
      await tick();
    }
    assert.equal(state.attempts, 1, "after a failure, no write is tried again for a while");
    assert.equal(warnings.length, 1);
    assert.equal((await meta.getToken(token.id))?.lastUsedAt, undefined);

    state.full = false;
    clock += 61_000;
    await auth.authenticate(`Bearer ${secret}`);
    await tick();
    assert.equal(state.attempts, 2);
    assert.equal((await meta.getToken(token.id))?.lastUsedAt, new Date(clock).toISOString());
    assert.equal(warnings.length, 1);
  });
});
