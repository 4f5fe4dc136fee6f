import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { metadataCachePolicies, withMetadataCache } from "./cached-metadata-store.js";
import { createInvalidation, type InvalidationBus } from "./invalidation.js";
import type { MetadataStore, NewCommit } from "./metadata-store.js";
import { runMetadataStoreSuite } from "./metadata-store-suite.js";
import { createSqliteMetadataStore } from "./sqlite/sqlite-metadata-store.js";

const hex = (bytes: number) => randomBytes(bytes).toString("hex");

const commit = (module: string, label = "main"): NewCommit => ({
  owner: "acme",
  module,
  id: hex(16),
  digest: `sha256:${hex(32)}`,
  sourcesBlob: `sha256/aa/${hex(32)}`,
  imageBlob: `sha256/bb/${hex(32)}`,
  createdBy: "acme",
  files: [],
  deps: [],
  label,
});

// The cache is a MetadataStore like any other: the whole contract holds through it.
runMetadataStoreSuite("sqlite + metadata cache", async () => {
  const dir = await mkdtemp(join(tmpdir(), "protodepot-cached-meta-"));
  const path = join(dir, "metadata.sqlite");
  const opened: MetadataStore[] = [];
  const open = async () => {
    const store = withMetadataCache(await createSqliteMetadataStore({ path }));
    opened.push(store);
    return store;
  };
  return {
    store: await open(),
    reopen: open,
    async cleanup() {
      for (const s of opened) await s.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

/** Counts the reads that reach the database, by method. */
function counting(inner: MetadataStore): { store: MetadataStore; reads: Map<string, number> } {
  const reads = new Map<string, number>();
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== "function" || typeof prop !== "string") return value;
      return (...args: unknown[]) => {
        reads.set(prop, (reads.get(prop) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store, reads };
}

/** Two processes' buses, in one: what the cluster relay does, minus the IPC. */
function pairedBuses(): [InvalidationBus, InvalidationBus] {
  const drops: [(() => void)[], (() => void)[]] = [[], []];
  const bus = (self: 0 | 1): InvalidationBus => ({
    async publish() {
      for (const drop of drops[self === 0 ? 1 : 0]) drop();
    },
    subscribe(drop) {
      drops[self].push(drop);
    },
  });
  return [bus(0), bus(1)];
}

describe("metadata cache", () => {
  let dir: string;
  let path: string;
  const stores: MetadataStore[] = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "protodepot-cache-rules-"));
    path = join(dir, "metadata.sqlite");
  });
  after(async () => {
    for (const s of stores) await s.close();
    await rm(dir, { recursive: true, force: true });
  });
  const open = async (bus?: InvalidationBus) => {
    const raw = await createSqliteMetadataStore({ path });
    const { store, reads } = counting(raw);
    const cached = withMetadataCache(store, {
      ...(bus ? { invalidation: createInvalidation(bus) } : {}),
      mutableTtlMs: 60_000,
    });
    stores.push(cached);
    return { cached, reads };
  };

  it("reads immutable facts and unchanged labels once", async () => {
    const { cached, reads } = await open();
    const { commit: c } = await cached.insertCommit(commit("facts"));
    reads.clear();
    for (let i = 0; i < 5; i++) {
      assert.equal((await cached.getCommit(c.id))?.id, c.id);
      assert.equal((await cached.getLabel(c.moduleId, "main"))?.commitId, c.id);
      assert.equal((await cached.getModule("acme", "facts"))?.id, c.moduleId);
    }
    assert.deepEqual(Object.fromEntries(reads), { getCommit: 1, getLabel: 1, getModule: 1 });
  });

  it("keeps its caches through a transaction that writes nothing cached, and drops them after one that does", async () => {
    const { cached, reads } = await open();
    const { commit: c } = await cached.insertCommit(commit("txn"));
    await cached.getLabel(c.moduleId, "main");
    reads.clear();
    // What every generation does when it publishes an artifact: a lease taken and released in one transaction.
    await cached.transaction(async (tx) => {
      const lease = await tx.acquireLease("artifact:k", "node", 60_000);
      assert.ok(lease && (await tx.releaseLease(lease)));
    });
    assert.equal((await cached.getLabel(c.moduleId, "main"))?.commitId, c.id);
    assert.equal(reads.get("getLabel") ?? 0, 0, "the label was still cached");
    const second = (await cached.insertCommit(commit("txn"))).commit;
    await cached.getLabel(c.moduleId, "main");
    reads.clear();
    await cached.transaction((tx) => tx.setLabel(c.moduleId, "main", c.id, "move"));
    assert.equal(
      (await cached.getLabel(c.moduleId, "main"))?.commitId,
      c.id,
      "moved back from the second commit",
    );
    assert.equal(reads.get("getLabel"), 1);
    assert.notEqual(second.id, c.id);
  });

  it("does not keep a missing commit: it may be pushed a moment later", async () => {
    const { cached, reads } = await open();
    const id = hex(16);
    assert.equal(await cached.getCommit(id), undefined);
    await cached.insertCommit({ ...commit("later"), id });
    assert.equal((await cached.getCommit(id))?.id, id);
    assert.equal(reads.get("getCommit"), 2);
  });

  it("shows a moved label and a new head on the next read", async () => {
    const { cached } = await open();
    const first = (await cached.insertCommit(commit("moving"))).commit;
    assert.equal((await cached.getLabel(first.moduleId, "main"))?.commitId, first.id);
    const second = (await cached.insertCommit(commit("moving"))).commit;
    assert.equal((await cached.getLabel(first.moduleId, "main"))?.commitId, second.id, "new head");
    await cached.setLabel(first.moduleId, "main", first.id, "move");
    assert.equal((await cached.getLabel(first.moduleId, "main"))?.commitId, first.id, "moved label");
    assert.deepEqual(
      (await cached.listLabels(first.moduleId)).map((l) => l.commitId),
      [first.id],
    );
  });

  it("shows a new template version and a new template on the next read", async () => {
    const { cached } = await open();
    assert.equal(await cached.getTemplate("acme", "ts"), undefined);
    const t = await cached.createTemplate({ owner: "acme", name: "ts", visibility: "public", plugins: [] });
    assert.equal((await cached.getTemplate("acme", "ts"))?.id, t.id);
    assert.deepEqual(await cached.listTemplateVersions(t.id), []);
    await cached.createTemplateVersion(t.id, []);
    assert.deepEqual(
      (await cached.listTemplateVersions(t.id)).map((v) => v.number),
      [1],
    );
  });

  it("shows a new user's owner name on the next read", async () => {
    const { cached } = await open();
    assert.equal(await cached.getOwner("newcomer"), undefined);
    await cached.createUser({ name: "newcomer", isAdmin: false });
    assert.equal((await cached.getOwner("newcomer"))?.kind, "user");
  });

  it("hands out frozen records, so no caller can change what the next one reads", async () => {
    const { cached } = await open();
    const { commit: c } = await cached.insertCommit(commit("frozen"));
    const labels = await cached.listLabels(c.moduleId);
    const first = labels[0];
    assert.ok(first);
    assert.throws(() => labels.push(first), TypeError);
    assert.throws(() => {
      first.commitId = "x";
    }, TypeError);
    assert.equal((await cached.getLabel(c.moduleId, "main"))?.commitId, c.id);
  });

  it("has a policy for every method a driver has", async () => {
    const raw = await createSqliteMetadataStore({ path });
    stores.push(raw);
    const methods = Object.keys(raw).filter(
      (k) => typeof (raw as unknown as Record<string, unknown>)[k] === "function",
    );
    assert.ok(methods.includes("getModule"), "the driver's methods are its own keys");
    assert.deepEqual(
      methods.filter((m) => !Object.hasOwn(metadataCachePolicies, m)),
      [],
      "methods the cache would treat as writes",
    );
  });

  it("treats a method it does not know as a write (a visibility setter, say) and drops what could move", async () => {
    const raw = await createSqliteMetadataStore({ path });
    let visibility: "public" | "private" = "public";
    // A store with one more method than the cache knows, as when a driver grows a setter.
    const grown = new Proxy(raw, {
      get(target, prop, receiver) {
        if (prop === "setModuleVisibility") {
          return async (v: "public" | "private") => {
            visibility = v;
          };
        }
        if (prop === "getModule") {
          return async (owner: string, name: string) => {
            const mod = await target.getModule(owner, name);
            return mod && { ...mod, visibility };
          };
        }
        return Reflect.get(target, prop, receiver);
      },
    });
    const cached = withMetadataCache(grown, { mutableTtlMs: 60_000 }) as MetadataStore & {
      setModuleVisibility(v: "public" | "private"): Promise<void>;
    };
    stores.push(cached);
    await cached.insertCommit(commit("secret"));
    assert.equal((await cached.getModule("acme", "secret"))?.visibility, "public");
    await cached.setModuleVisibility("private");
    assert.equal((await cached.getModule("acme", "secret"))?.visibility, "private");
  });

  it("a write in one process is seen by the other on its next read (workers share the database)", async () => {
    const [busA, busB] = pairedBuses();
    const a = await open(busA);
    const b = await open(busB);
    const first = (await a.cached.insertCommit(commit("shared"))).commit;
    assert.equal((await b.cached.getLabel(first.moduleId, "main"))?.commitId, first.id);
    const second = (await a.cached.insertCommit(commit("shared"))).commit;
    assert.equal((await b.cached.getLabel(first.moduleId, "main"))?.commitId, second.id);
    await b.cached.setLabel(first.moduleId, "main", first.id, "move");
    assert.equal((await a.cached.getLabel(first.moduleId, "main"))?.commitId, first.id);
  });

  it("a read that started before a write does not store what it read", async () => {
    const raw = await createSqliteMetadataStore({ path });
    let release: () => void = () => {};
    let slow = false;
    const gated = new Proxy(raw, {
      get(target, prop, receiver) {
        if (prop === "getLabel") {
          return async (moduleId: string, name: string) => {
            const label = await target.getLabel(moduleId, name);
            if (slow) await new Promise<void>((r) => (release = r));
            return label;
          };
        }
        return Reflect.get(target, prop, receiver);
      },
    });
    const cached = withMetadataCache(gated, { mutableTtlMs: 60_000 });
    stores.push(cached);
    const first = (await cached.insertCommit(commit("race"))).commit;
    slow = true;
    const stale = cached.getLabel(first.moduleId, "main");
    await new Promise((r) => setImmediate(r));
    const second = (await cached.insertCommit(commit("race"))).commit;
    release();
    assert.equal((await stale)?.commitId, first.id, "the old read answers its own caller");
    slow = false;
    assert.equal((await cached.getLabel(first.moduleId, "main"))?.commitId, second.id);
  });
});
