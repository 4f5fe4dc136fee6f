import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, isRegistryError } from "../core/errors.js";
import type { Role, User } from "../core/types.js";
import type { OwnerQuota } from "../storage/meta/metadata-store.js";
import type { AuditChange } from "./audit.js";
import type { Principal } from "./auth.js";
import { createQuotas, type QuotaDefaults, type QuotaOptions } from "./quotas.js";

const user = (name: string, isAdmin = false): User => ({ id: name, name, isAdmin, createdAt: "" });
const as = (u: User): Principal => ({ user: u });
const admin = as(user("root", true));
const alice = as(user("alice"));
const otto = as(user("otto"));
const none = { modules: null, commitsPerDay: null, imageBytes: null, images: null };
const unlimited: QuotaDefaults = {
  modulesPerOwner: 0,
  commitsPerOwnerPerDay: 0,
  imageBytesPerOwner: 0,
  imagesPerOwner: 0,
};

/** Owners acme (alice a reader) and alice, with counts the test sets. */
function world(defaults: Partial<QuotaDefaults> = {}) {
  const quotas = new Map<string, OwnerQuota>();
  const counts = { modules: 0, commits: 0, imageBytes: 0, images: 0 };
  const imagesAsked: string[] = [];
  const sinceAsked: string[] = [];
  const audited: AuditChange[] = [];
  const roles: Record<string, Record<string, Role>> = {
    acme: { alice: "reader" },
    alice: { alice: "owner" },
  };
  const opts: QuotaOptions = {
    meta: {
      getOwner: async (name) => (name in roles ? { name, kind: "organization" } : undefined),
      getQuota: async (owner) => quotas.get(owner),
      setQuota: async (owner, q) => void quotas.set(owner, q),
      countModules: async () => counts.modules,
      countCommitsSince: async (_owner, since) => {
        sinceAsked.push(since);
        return counts.commits;
      },
    },
    access: {
      roleOf: async (p, owner) => (p.user?.isAdmin ? "owner" : roles[owner]?.[p.user?.name ?? ""]),
    },
    defaults: { ...unlimited, ...defaults },
    imageUsage: {
      bytes: async (owner) => {
        imagesAsked.push(owner);
        return counts.imageBytes;
      },
      images: async (owner) =>
        Array.from({ length: counts.images }, (_, i) => ({ plugin: `${owner}-p`, version: `v0.0.${i}` })),
    },
    audit: { record: async (_p, change) => void audited.push(change) },
    now: () => Date.parse("2026-12-07T12:00:00Z"),
  };
  return { quotas: createQuotas(opts), counts, sinceAsked, audited, imagesAsked };
}

const exhausted = (pattern: RegExp) => (err: unknown) => {
  assert.ok(isRegistryError(err, Code.ResourceExhausted), String(err));
  assert.match(err.message, pattern);
  return true;
};

describe("quotas", () => {
  it("lets everything through when the defaults are 0 (unlimited) and no owner has its own", async () => {
    const w = world();
    w.counts.modules = 10_000;
    w.counts.commits = 10_000;
    await w.quotas.checkNewModule("acme");
    await w.quotas.checkNewCommits("acme", 5);
  });

  it("refuses a module past the default, naming the setting and the command that raises it", async () => {
    const w = world({ modulesPerOwner: 2, commitsPerOwnerPerDay: 0 });
    w.counts.modules = 1;
    await w.quotas.checkNewModule("acme");
    w.counts.modules = 2;
    await assert.rejects(
      w.quotas.checkNewModule("acme"),
      exhausted(
        /acme has 2 modules.*\(2, the server's default, quotas\.modulesPerOwner.*protodepot quota set/,
      ),
    );
  });

  it("counts commits of the last 24 hours, a batch as many as it holds", async () => {
    const w = world({ modulesPerOwner: 0, commitsPerOwnerPerDay: 10 });
    w.counts.commits = 8;
    await w.quotas.checkNewCommits("acme", 2);
    await assert.rejects(
      w.quotas.checkNewCommits("acme", 3),
      exhausted(/took 8 commits.*allows 10.*try again later/),
    );
    assert.deepEqual(new Set(w.sinceAsked), new Set(["2026-12-06T12:00:00.000Z"]));
  });

  it("lets an admin's quota of one owner win over the default, 0 meaning unlimited, null the default again", async () => {
    const w = world({ modulesPerOwner: 1, commitsPerOwnerPerDay: 0 });
    w.counts.modules = 5;
    await w.quotas.set(admin, "acme", { ...none, modules: 0, commitsPerDay: null });
    await w.quotas.checkNewModule("acme");
    await assert.rejects(w.quotas.checkNewModule("alice"), exhausted(/alice has 5 modules/));
    const report = await w.quotas.set(admin, "acme", { ...none, modules: 6, commitsPerDay: 3 });
    assert.deepEqual(report.modules, { limit: 6, source: "owner", used: 5 });
    assert.deepEqual(report.commitsPerDay, { limit: 3, source: "owner", used: 0 });
    w.counts.modules = 6;
    await assert.rejects(w.quotas.checkNewModule("acme"), exhausted(/set by an admin/));
    await w.quotas.set(admin, "acme", { ...none, modules: null, commitsPerDay: null });
    await assert.rejects(w.quotas.checkNewModule("acme"), exhausted(/server's default/));
    assert.deepEqual(
      w.audited.map((a) => [a.action, a.after]),
      [
        ["quota.set", { ...none, modules: 0, commitsPerDay: null }],
        ["quota.set", { ...none, modules: 6, commitsPerDay: 3 }],
        ["quota.set", { ...none, modules: null, commitsPerDay: null }],
      ],
    );
  });

  it("gives the plugin image limits of an owner: the oci.* defaults, or the owner's own; reports their usage", async () => {
    const w = world({ imageBytesPerOwner: 8_000, imagesPerOwner: 20 });
    assert.deepEqual(await w.quotas.imageLimits("acme"), {
      bytes: { limit: 8_000, source: "default" },
      images: { limit: 20, source: "default" },
    });
    // A bigger quota than 32 bits holds, 0 is unlimited and the owner's own; null still follows the default.
    const big = 64 * 1024 ** 3;
    w.counts.imageBytes = 7_000;
    w.counts.images = 4;
    const report = await w.quotas.set(admin, "acme", { ...none, imageBytes: big, images: 0 });
    assert.deepEqual(report.imageBytes, { limit: big, source: "owner", used: 7_000 });
    assert.deepEqual(report.images, { limit: 0, source: "owner", used: 4 });
    assert.deepEqual(report.modules, { limit: 0, source: "default", used: 0 });
    assert.deepEqual(await w.quotas.imageLimits("acme"), {
      bytes: { limit: big, source: "owner" },
      images: { limit: 0, source: "owner" },
    });
    // Other owners keep the defaults.
    assert.deepEqual((await w.quotas.imageLimits("alice")).bytes, { limit: 8_000, source: "default" });
    await w.quotas.set(admin, "acme", { ...none, images: 5 });
    assert.deepEqual(await w.quotas.imageLimits("acme"), {
      bytes: { limit: 8_000, source: "default" },
      images: { limit: 5, source: "owner" },
    });
    assert.deepEqual(w.imagesAsked, ["acme", "acme"], "usage is counted for reports, not for limits");
    assert.deepEqual(
      w.audited.map((a) => [a.action, a.before, a.after]),
      [
        ["quota.set", none, { ...none, imageBytes: big, images: 0 }],
        ["quota.set", { ...none, imageBytes: big, images: 0 }, { ...none, images: 5 }],
      ],
    );
  });

  it("lets only admins set quotas, and only of owners that exist", async () => {
    const w = world();
    await assert.rejects(
      w.quotas.set(alice, "alice", { ...none, modules: 100, commitsPerDay: null }),
      (err: unknown) => isRegistryError(err, Code.PermissionDenied),
    );
    await assert.rejects(
      w.quotas.set({}, "acme", { ...none, modules: 1, commitsPerDay: null }),
      (err: unknown) => isRegistryError(err, Code.Unauthenticated),
    );
    await assert.rejects(
      w.quotas.set(admin, "nobody", { ...none, modules: 1, commitsPerDay: null }),
      (err: unknown) => isRegistryError(err, Code.NotFound),
    );
    assert.equal(w.audited.length, 0);
  });

  it("shows an owner's quotas to the owner, its members and admins, and to nobody else", async () => {
    const w = world({ modulesPerOwner: 3, commitsPerOwnerPerDay: 0 });
    w.counts.modules = 2;
    for (const [who, owner] of [
      [alice, "acme"],
      [alice, "alice"],
      [admin, "acme"],
    ] as const) {
      const report = await w.quotas.get(who, owner);
      assert.deepEqual(report.modules, { limit: 3, source: "default", used: 2 });
    }
    await assert.rejects(w.quotas.get(otto, "acme"), (err: unknown) =>
      isRegistryError(err, Code.PermissionDenied),
    );
  });
});
