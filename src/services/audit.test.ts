// The audit trail's rules over a fake store and a fake clock: who is recorded, failed sign-ins folded per address
// and window, who reads what, retention.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, isRegistryError, RegistryError } from "../core/errors.js";
import type { AuditEvent, User } from "../core/types.js";
import type { AuditFilter, AuditStore } from "../storage/meta/metadata-store.js";
import { createAuditTrail } from "./audit.js";
import type { Principal } from "./auth.js";

function fakeStore() {
  const events: AuditEvent[] = [];
  const filters: AuditFilter[] = [];
  const pruned: string[] = [];
  const store: AuditStore = {
    async appendAudit(e) {
      const event = { ...e, id: String(events.length).padStart(4, "0") };
      events.push(event);
      return event;
    },
    async listAudit(filter) {
      filters.push(filter);
      return events.filter((e) => !filter.owner || e.owner === filter.owner).reverse();
    },
    async pruneAudit(before) {
      pruned.push(before);
      return 0;
    },
  };
  return { store, events, filters, pruned };
}

const user = (name: string, extra: Partial<User> = {}): User => ({
  id: `u-${name}`,
  name,
  isAdmin: false,
  createdAt: "",
  ...extra,
});

function setup(opts: { maxFailureAddresses?: number; enabled?: boolean } = {}) {
  const fake = fakeStore();
  let clock = Date.parse("2026-05-01T12:00:00Z");
  const trail = createAuditTrail({
    store: fake.store,
    // olivia owns acme; nobody else manages anything.
    access: {
      requireManage: async (p, owner) => {
        if (p.user?.name === "olivia" && owner === "acme") return p.user;
        throw new RegistryError(Code.PermissionDenied, `may not read the audit log of ${owner}`);
      },
    },
    retentionDays: 30,
    failureWindowMs: 60_000,
    ...opts,
    now: () => clock,
  });
  return { trail, ...fake, tick: (ms: number) => (clock += ms) };
}

describe("audit trail", () => {
  it("records the actor, its token, whether it is a bot, and where the request came from", async () => {
    const { trail, events } = setup();
    const bot: Principal = {
      user: user("acme-ci", { botOf: "acme" }),
      tokenId: "t-1",
      client: { address: "10.0.0.7", userAgent: "buf/1.50", requestId: "req-9" },
    };
    await trail.record(bot, {
      action: "label.move",
      target: "acme/payments:main",
      owner: "acme",
      before: { commit: "c1" },
      after: { commit: "c2" },
    });
    assert.equal(events.length, 1);
    assert.deepEqual(
      { ...events[0], id: undefined },
      {
        id: undefined,
        at: "2026-05-01T12:00:00.000Z",
        action: "label.move",
        actor: "acme-ci",
        actorId: "u-acme-ci",
        tokenId: "t-1",
        bot: true,
        owner: "acme",
        target: "acme/payments:main",
        before: '{"commit":"c1"}',
        after: '{"commit":"c2"}',
        clientAddress: "10.0.0.7",
        userAgent: "buf/1.50",
        requestId: "req-9",
        count: 1,
      },
    );
  });

  it("folds failed sign-ins: one event per address per window, the rest as one count", async () => {
    const { trail, events, tick } = setup();
    for (let i = 0; i < 500; i++)
      trail.failedAuth({ address: "192.0.2.1", requestId: `r${i}` }, "invalid token");
    trail.failedAuth({ address: "192.0.2.2", requestId: "other" }, "invalid token");
    await trail.flush();
    const counts = events.map((e) => `${e.clientAddress}:${e.count}`);
    assert.deepEqual(counts.sort(), ["192.0.2.1:1", "192.0.2.1:499", "192.0.2.2:1"]);
    assert.ok(events.every((e) => e.action === "auth.failed" && e.actor === ""));
    assert.equal(events.find((e) => e.count === 1 && e.clientAddress === "192.0.2.1")?.requestId, "r0");
    // A new window starts a new first event.
    tick(60_000);
    trail.failedAuth({ address: "192.0.2.1" }, "invalid token");
    await trail.flush();
    assert.equal(events.length, 4);
  });

  it("bounds the addresses it tracks: past the cap, failures share one bucket", async () => {
    const { trail, events } = setup({ maxFailureAddresses: 3 });
    for (let i = 0; i < 100; i++) trail.failedAuth({ address: `198.51.100.${i}` }, "invalid token");
    await trail.flush();
    assert.ok(events.length <= 5, `${events.length} events for 100 addresses`);
    assert.equal(
      events.reduce((n, e) => n + e.count, 0),
      100,
      "every failure is counted",
    );
  });

  it("lets admins read everything and an organization's owners only their organization", async () => {
    const { trail, filters } = setup();
    const admin: Principal = { user: user("root", { isAdmin: true }) };
    const olivia: Principal = { user: user("olivia") };
    const walt: Principal = { user: user("walt") };
    await trail.list(admin, {});
    assert.equal(filters.at(-1)?.owner, undefined);
    await trail.list(olivia, { owner: "acme", since: "2026-04-01T00:00:00Z", limit: 5000 });
    assert.deepEqual(filters.at(-1), { limit: 1000, since: "2026-04-01T00:00:00.000Z", owner: "acme" });
    await assert.rejects(trail.list(olivia, {}), (e) => isRegistryError(e, Code.PermissionDenied));
    await assert.rejects(trail.list(walt, { owner: "acme" }), (e) =>
      isRegistryError(e, Code.PermissionDenied),
    );
    await assert.rejects(trail.list({}, { owner: "acme" }), (e) => isRegistryError(e, Code.Unauthenticated));
    await assert.rejects(trail.list(admin, { since: "yesterday" }), (e) =>
      isRegistryError(e, Code.InvalidArgument),
    );
  });

  it("prunes past the retention at most once an hour", async () => {
    const { trail, pruned, tick } = setup();
    const p: Principal = { user: user("root", { isAdmin: true }) };
    await trail.record(p, { action: "user.create", target: "user a" });
    await trail.record(p, { action: "user.create", target: "user b" });
    assert.deepEqual(pruned, ["2026-04-01T12:00:00.000Z"]);
    tick(60 * 60 * 1000);
    await trail.record(p, { action: "user.create", target: "user c" });
    assert.equal(pruned.length, 2);
  });

  it("never fails a change whose event cannot be appended: the event goes to the log", async () => {
    const logged: object[] = [];
    const trail = createAuditTrail({
      store: {
        appendAudit: async () => {
          throw new Error("disk full");
        },
        listAudit: async () => [],
        pruneAudit: async () => 0,
      },
      access: { requireManage: async () => user("x") },
      log: { error: (fields) => void logged.push(fields) },
      retentionDays: 0,
    });
    await trail.record({ user: user("root") }, { action: "user.create", target: "user a" });
    assert.equal(logged.length, 1);
  });

  it("appends in the change's transaction, and nothing at all when the log is off", async () => {
    const on = setup();
    const tx = fakeStore();
    const ann: Principal = { user: user("ann"), tokenId: "t1" };
    await on.trail.appendIn(tx.store, ann, { action: "user.create", target: "user bob" });
    assert.deepEqual(
      tx.events.map((e) => [e.action, e.actor, e.tokenId]),
      [["user.create", "ann", "t1"]],
    );
    assert.equal(on.events.length, 0, "the transaction's store, not the trail's own");

    const off = setup({ enabled: false });
    await off.trail.appendIn(tx.store, ann, { action: "user.create", target: "user carl" });
    await off.trail.record(ann, { action: "module.create", target: "acme/x", owner: "acme" });
    off.trail.failedAuth({ address: "10.0.0.1" }, "invalid token");
    await off.trail.flush();
    assert.equal(tx.events.length, 1);
    assert.equal(off.events.length, 0);
    await assert.rejects(off.trail.list({ user: user("root", { isAdmin: true }) }, {}), (err: unknown) => {
      assert.ok(isRegistryError(err, Code.FailedPrecondition));
      assert.match(err.message, /audit\.enabled/);
      return true;
    });
  });
});
