// Dependency pinning over fakes: which commit each dependency of a push pins, and the rules around it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, isRegistryError, RegistryError } from "../../core/errors.js";
import type { Commit, CommitDep, Module, Visibility } from "../../core/types.js";
import type { Principal } from "../auth.js";
import { createDependencyPinning, dependencyOrder } from "./dependencies.js";

const caller: Principal = {
  user: { id: "u1", name: "ann", isAdmin: false, createdAt: "" },
  roles: new Map(),
};

/** A small registry: modules with labelled commits, each commit's pinned deps and files. */
function registry() {
  const modules = new Map<string, Module>();
  const labels = new Map<string, Commit>();
  const deps = new Map<string, CommitDep[]>();
  const files = new Map<string, string[]>();
  const hidden = new Set<string>();
  const module = (key: string, visibility: Visibility = "public") => {
    const [owner = "", name = ""] = key.split("/");
    const mod = { id: key, owner, name, visibility, defaultLabel: "main", createdAt: "" };
    modules.set(key, mod);
    return mod;
  };
  const commit = (
    key: string,
    label: string,
    seq: number,
    opts: { deps?: CommitDep[]; files?: string[] } = {},
  ) => {
    const [owner = "", name = ""] = key.split("/");
    const c: Commit = {
      id: `${key}@${seq}`,
      moduleId: key,
      owner,
      module: name,
      seq,
      digest: "",
      sourcesBlob: "",
      imageBlob: "",
      createdBy: "ann",
      createdAt: "",
    };
    labels.set(`${key}:${label}`, c);
    labels.set(`${key}:${c.id}`, c);
    deps.set(c.id, opts.deps ?? []);
    files.set(c.id, opts.files ?? []);
    return c;
  };
  const missing = (key: string, ref?: string) =>
    new RegistryError(Code.NotFound, `no ${key} ${ref ?? ""}`, ref === undefined ? {} : { ref });
  const pinning = createDependencyPinning({
    meta: {
      getModule: async (owner, name) => modules.get(`${owner}/${name}`),
      listCommitDeps: async (id) => deps.get(id) ?? [],
      listCommitFiles: async (id) => (files.get(id) ?? []).map((path) => ({ path, size: 0, sha256: "" })),
    },
    access: { canRead: async (_p, thing) => !hidden.has(`${thing.owner}`) },
    reads: {
      async resolveRef(_p, name, ref) {
        const key = `${name.owner}/${name.name}`;
        const mod = modules.get(key);
        if (!mod || hidden.has(name.owner)) throw missing(key);
        const found = labels.get(`${key}:${ref || mod.defaultLabel}`);
        if (!found) throw missing(key, ref || mod.defaultLabel);
        return found;
      },
      async resolveIn(mod, ref) {
        const found = labels.get(`${mod.owner}/${mod.name}:${ref || mod.defaultLabel}`);
        if (!found) throw missing(mod.name, ref);
        return found;
      },
    },
  });
  return { pinning, module, commit, hidden };
}

const dep = (c: Commit, direct: boolean): CommitDep => ({
  commitId: c.id,
  owner: c.owner,
  module: c.module,
  seq: c.seq,
  direct,
});
const self = { owner: "acme", name: "app" };
const noPins = new Map<string, string>();

describe("dependency pinning", () => {
  it("pins direct dependencies at their default label and transitive ones as their dependents did, deepest first", async () => {
    const r = registry();
    r.module("acme/base");
    r.module("acme/money");
    const base1 = r.commit("acme/base", "v1", 1);
    r.commit("acme/base", "main", 2);
    const money = r.commit("acme/money", "main", 4, { deps: [dep(base1, true)] });
    const pinned = await r.pinning.resolveDeps(caller, self, [{ owner: "acme", name: "money" }], noPins);
    assert.deepEqual(pinned, [dep(base1, false), dep(money, true)]);
  });

  it("keeps a direct pin when a dependency pinned another commit of the same module", async () => {
    const r = registry();
    r.module("acme/base");
    r.module("acme/money");
    const base1 = r.commit("acme/base", "v1", 1);
    const base2 = r.commit("acme/base", "main", 2);
    const money = r.commit("acme/money", "main", 4, { deps: [dep(base1, true)] });
    const pinned = await r.pinning.resolveDeps(
      caller,
      self,
      [
        { owner: "acme", name: "money" },
        { owner: "acme", name: "base" },
      ],
      noPins,
    );
    assert.deepEqual(pinned, [dep(base2, true), dep(money, true)]);
  });

  it("takes buf.lock's pin over the ref buf.yaml names, and the ref over the default label", async () => {
    const r = registry();
    r.module("acme/base");
    const base1 = r.commit("acme/base", "v1", 1);
    const base2 = r.commit("acme/base", "v2", 2);
    r.commit("acme/base", "main", 3);
    const named = [{ owner: "acme", name: "base", ref: "v2" }];
    assert.deepEqual(await r.pinning.resolveDeps(caller, self, named, noPins), [dep(base2, true)]);
    const locked = new Map([["acme/base", base1.id]]);
    assert.deepEqual(await r.pinning.resolveDeps(caller, self, named, locked), [dep(base1, true)]);
  });

  it("refuses a module depending on itself, directly or through a dependency", async () => {
    const r = registry();
    r.module("acme/app");
    r.module("acme/loop");
    const app = r.commit("acme/app", "main", 1);
    r.commit("acme/loop", "main", 1, { deps: [dep(app, true)] });
    await assert.rejects(
      r.pinning.resolveDeps(caller, self, [{ owner: "acme", name: "app" }], noPins),
      (e) => isRegistryError(e, Code.InvalidArgument) && /cannot depend on itself/.test(e.message),
    );
    await assert.rejects(
      r.pinning.resolveDeps(caller, self, [{ owner: "acme", name: "loop" }], noPins),
      (e) =>
        isRegistryError(e, Code.InvalidArgument) &&
        /dependency cycle: acme\/loop depends on acme\/app/.test(e.message),
    );
  });

  it("asks to push a missing (or hidden) dependency first, but a missing label stays NotFound", async () => {
    const r = registry();
    r.module("acme/base");
    r.commit("acme/base", "main", 1);
    r.module("secret/thing", "private");
    r.commit("secret/thing", "main", 1);
    r.hidden.add("secret");
    for (const name of [
      { owner: "acme", name: "nothing" },
      { owner: "secret", name: "thing" },
    ]) {
      await assert.rejects(r.pinning.resolveDeps(caller, self, [name], noPins), (e) => {
        assert.ok(isRegistryError(e, Code.FailedPrecondition), String(e));
        assert.match(
          e.message,
          new RegExp(`dependency ${name.owner}/${name.name} does not exist in this registry`),
        );
        return true;
      });
    }
    await assert.rejects(
      r.pinning.resolveDeps(caller, self, [{ owner: "acme", name: "base", ref: "nope" }], noPins),
      (e) => isRegistryError(e, Code.NotFound),
    );
  });

  it("refuses private dependencies of a public module, naming them", async () => {
    const r = registry();
    r.module("acme/open");
    r.module("acme/closed", "private");
    const open = r.commit("acme/open", "main", 1);
    const closed = r.commit("acme/closed", "main", 1);
    const fix = "push with --visibility private";
    await r.pinning.refusePrivateDeps(self, [dep(open, true)], fix);
    await assert.rejects(
      r.pinning.refusePrivateDeps(self, [dep(open, true), dep(closed, false)], fix),
      (e) => {
        assert.ok(isRegistryError(e, Code.FailedPrecondition));
        assert.match(e.message, /public module acme\/app cannot depend on private modules \(acme\/closed\)/);
        assert.match(e.message, /push with --visibility private, or make the dependencies public/);
        return true;
      },
    );
  });

  it("adds the workspace siblings the files import, when pushed and readable and not declared already", async () => {
    const r = registry();
    for (const m of ["acme/types", "acme/unused", "acme/declared"]) r.module(m);
    r.module("other/hidden");
    r.commit("acme/types", "main", 1, { files: ["acme/types/v1/money.proto"] });
    r.commit("acme/unused", "main", 1, { files: ["acme/unused/v1/x.proto"] });
    r.commit("acme/declared", "main", 1, { files: ["acme/declared/v1/d.proto"] });
    r.commit("other/hidden", "main", 1, { files: ["other/hidden.proto"] });
    r.hidden.add("other");
    const files = [
      {
        path: "acme/app/v1/app.proto",
        content: new TextEncoder().encode(
          'import \'acme/types/v1/money.proto\';\nimport "acme/declared/v1/d.proto";\nimport "other/hidden.proto";\n',
        ),
      },
    ];
    const workspace = ["types", "unused", "declared", "notpushed"].map((name) => ({ owner: "acme", name }));
    const found = await r.pinning.importedSiblings(
      caller,
      [...workspace, { owner: "other", name: "hidden" }],
      [{ owner: "acme", name: "declared" }],
      files,
    );
    assert.deepEqual(found, [{ owner: "acme", name: "types" }]);
  });

  it("orders dependencies after those they depend on", () => {
    const a = { commitId: "a", after: ["b", "c"] };
    const b = { commitId: "b", after: ["c"] };
    const c = { commitId: "c", after: [] };
    assert.deepEqual(
      dependencyOrder([a, b, c]).map((d) => d.commitId),
      ["c", "b", "a"],
    );
  });
});
