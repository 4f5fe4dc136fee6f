// Generation's resolution rules over fakes of the narrow stores and services it reads: reference kinds, template
// versions, scopes, what hidden things answer, and that a stored artifact is served without running the engine.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, isRegistryError, RegistryError } from "../core/errors.js";
import type { FullName } from "../core/names.js";
import type {
  ArtifactRecord,
  Commit,
  CommitDep,
  Module,
  Scope,
  Template,
  TemplateVersion,
  User,
} from "../core/types.js";
import type { Packager } from "../generate/package/packager.js";
import type { ArtifactJob } from "./artifact-generator.js";
import { anonymous, type Principal } from "./auth.js";
import {
  type ArtifactRequest,
  createGenerationService,
  type GenerationModules,
  type GenerationServiceOptions,
  type GenerationTemplates,
} from "./generation.js";

const alice: Principal = {
  user: { id: "u-alice", name: "alice", isAdmin: false, createdAt: "" } satisfies User,
};
const ids = { c1: "1".repeat(32), c2: "2".repeat(32), c3: "3".repeat(32), dep: "d".repeat(32) };

const commit = (id: string, seq: number, module = "money", owner = "demo"): Commit => ({
  id,
  moduleId: `${owner}/${module}`,
  owner,
  module,
  seq,
  digest: "sha256:00",
  sourcesBlob: "s",
  imageBlob: "i",
  createdBy: "admin",
  createdAt: `2024-01-0${seq}T00:00:00.000Z`,
});

const missing = (what: string) => new RegistryError(Code.NotFound, `${what} does not exist`);
const isNotFound = (message: RegExp) => (err: unknown) =>
  isRegistryError(err, Code.NotFound) && message.test(err.message);

/**
 * demo/money (public, commits 1–3, `main` → 2, depends on acme/secret's commit), acme/secret (private: alice
 * only), templates protodepot/es (public, v1 and v2) and acme/internal (private to alice), plugin acme/priv (private
 * to alice) run by protodepot/uses-private. Counts what a resolution reads.
 */
function world(opts: { epoch?: () => number } = {}) {
  const money = [commit(ids.c1, 1), commit(ids.c2, 2), commit(ids.c3, 3)];
  const secret = commit(ids.dep, 1, "secret", "acme");
  const labels = new Map([["main", ids.c2]]);
  const canSee = (p: Principal, owner: string) => owner !== "acme" || p.user?.name === "alice";
  const calls = { resolveRef: 0, listTemplateVersions: 0, generate: 0, getArtifact: 0 };
  const jobs: ArtifactJob[] = [];
  const stored = new Map<string, ArtifactRecord>();

  const module = (name: FullName): Module => ({
    id: `${name.owner}/${name.name}`,
    owner: name.owner,
    name: name.name,
    visibility: name.owner === "acme" ? "private" : "public",
    defaultLabel: "main",
    createdAt: "",
  });
  const modules: GenerationModules = {
    async getModule(p, name) {
      const known = (name.owner === "demo" && name.name === "money") || name.owner === "acme";
      if (!known || !canSee(p, name.owner)) throw missing(`module ${name.owner}/${name.name}`);
      return module(name);
    },
    async resolveRef(p, name, ref) {
      calls.resolveRef++;
      await modules.getModule(p, name);
      const id = labels.get(ref || "main") ?? ref;
      const found = [...money, secret].find((c) => c.id === id && c.owner === name.owner);
      if (!found) throw missing(`ref ${ref} of ${name.owner}/${name.name}`);
      return found;
    },
    async readableDeps(p, c): Promise<CommitDep[]> {
      if (c.module !== "money") return [];
      await modules.getModule(p, { owner: "acme", name: "secret" });
      return [{ commitId: secret.id, owner: "acme", module: "secret", seq: 1, direct: true }];
    },
  };
  const template = (owner: string, name: string): Template => ({
    id: `${owner}/${name}`,
    owner,
    name,
    visibility: owner === "acme" ? "private" : "public",
    plugins: name === "uses-private" ? [{ owner: "acme", name: "priv", parameter: "" }] : [],
    createdAt: "",
  });
  const version = (templateId: string, number: number): TemplateVersion => ({
    templateId,
    number,
    plugins: [{ owner: "protodepot", name: "es", version: "v1.0.0" }],
    createdAt: "",
  });
  const templates: GenerationTemplates = {
    async getTemplate(p, name) {
      if (!canSee(p, name.owner)) throw missing(`template ${name.owner}/${name.name}`);
      return template(name.owner, name.name);
    },
    async getVersion(t, number) {
      if (number > 2) throw missing(`template ${t.owner}/${t.name} version v${number}`);
      return version(t.id, number);
    },
    async checkPluginsReadable(p, t) {
      for (const plugin of t.plugins)
        if (!canSee(p, plugin.owner)) throw missing(`template ${t.owner}/${t.name}`);
    },
    async resolvePlugins() {
      return [];
    },
  };
  const meta: GenerationServiceOptions["meta"] = {
    async getCommitBySeq(moduleId, seq) {
      return moduleId === "demo/money" ? money.find((c) => c.seq === seq) : undefined;
    },
    async listCommits() {
      return [...money].reverse();
    },
    async listCommitFiles() {
      return [];
    },
    async listTemplateVersions(templateId) {
      calls.listTemplateVersions++;
      return [version(templateId, 1), version(templateId, 2)];
    },
    async getArtifact(key) {
      calls.getArtifact++;
      return stored.get(JSON.stringify(key));
    },
    async listArtifacts() {
      return [];
    },
    async deleteArtifacts() {
      return 0;
    },
  };
  const packager = (flavour: Packager["flavour"], fixedScope?: Scope): Packager => ({
    flavour,
    ...(fixedScope ? { fixedScope } : {}),
    package: async () => ({ bytes: new Uint8Array(), extra: {} }),
  });
  const service = createGenerationService({
    meta,
    blobs: {
      get: async () => undefined,
      stat: async () => undefined,
      delete: async () => {},
    },
    modules,
    templates,
    generator: {
      async generate(job) {
        calls.generate++;
        jobs.push(job);
        return { ...job.artifact, blob: "b", digest: "sha256:11", size: 1, extra: {}, createdAt: "" };
      },
    },
    packagers: [packager("archive"), packager("go", "module")],
    goHost: "go.example",
    npmScope: "protodepot",
    payers: {
      of: async (p, owners) => [p.user?.name ?? "ANONYMOUS", ...owners],
      accountsOf: async (o) => [o],
    },
    ...(opts.epoch ? { invalidation: { epoch: opts.epoch }, resolutionTtlMs: 60_000 } : {}),
  });
  const store = (r: ArtifactRecord) => {
    const { templateId, templateVersion, commitId, scope, flavour } = r;
    stored.set(JSON.stringify({ templateId, templateVersion, commitId, scope, flavour }), r);
  };
  return { service, calls, jobs, labels, store };
}

const request = (over: Partial<ArtifactRequest> = {}): ArtifactRequest => ({
  template: { owner: "protodepot", name: "es" },
  module: { owner: "demo", name: "money" },
  templateVersion: "latest",
  commit: { ref: "main" },
  scope: "module",
  flavour: "archive",
  ...over,
});

describe("generation: resolve", () => {
  it("resolves a label, a commit id and a synthetic version to the commit each names, with a typed key", async () => {
    const { service } = world();
    const byLabel = await service.resolve(alice, request());
    assert.equal(byLabel.commit.id, ids.c2);
    assert.equal(byLabel.templateVersion.number, 2, "latest is the newest template version");
    assert.deepEqual(byLabel.version, { templateVersion: 2, commitSeq: 2 });
    assert.deepEqual(byLabel.key, {
      templateId: "protodepot/es",
      templateVersion: 2,
      commitId: ids.c2,
      scope: "module",
      flavour: "archive",
    });
    assert.deepEqual(
      byLabel.deps.map((d) => d.commitId),
      [ids.dep],
    );

    const byId = await service.resolve(alice, request({ templateVersion: 1, commit: { ref: ids.c3 } }));
    assert.deepEqual(byId.version, { templateVersion: 1, commitSeq: 3 });

    const bySeq = await service.resolve(alice, request({ templateVersion: 2, commit: { seq: 1 } }));
    assert.equal(bySeq.commit.id, ids.c1);
    assert.equal(bySeq.key.commitId, ids.c1);
  });

  it("reads template versions as URLs name them, and only after the template is known readable", async () => {
    const { service } = world();
    const v1 = await service.resolve(alice, request({ templateVersion: { name: "v1" } }));
    assert.equal(v1.templateVersion.number, 1);
    assert.equal(
      (await service.resolve(alice, request({ templateVersion: { name: "2" } }))).key.templateVersion,
      2,
    );
    const latest = await service.resolve(alice, request({ templateVersion: { name: "latest" } }));
    assert.equal(latest.templateVersion.number, 2);
    await assert.rejects(
      service.resolve(alice, request({ templateVersion: { name: "x1" } })),
      (err: unknown) => isRegistryError(err, Code.InvalidArgument),
    );
    // A hidden template answers as missing, whatever the version looks like.
    await assert.rejects(
      service.resolve(
        anonymous,
        request({ template: { owner: "acme", name: "internal" }, templateVersion: { name: "x1" } }),
      ),
      isNotFound(/template acme\/internal/),
    );
    await assert.rejects(service.resolve(alice, request({ templateVersion: 9 })), isNotFound(/version v9/));
  });

  it("keeps the requested scope unless the flavour fixes one, and puts it in the key", async () => {
    const { service } = world();
    const archive = await service.resolve(alice, request({ scope: "imports_wkt" }));
    assert.equal(archive.scope, "imports_wkt");
    assert.equal(archive.key.scope, "imports_wkt");
    const go = await service.resolve(alice, request({ scope: "imports_wkt", flavour: "go" }));
    assert.equal(go.scope, "module");
    assert.deepEqual([go.key.scope, go.key.flavour], ["module", "go"]);
    await assert.rejects(
      service.resolve(alice, request({ flavour: "npm" })),
      (err: unknown) =>
        isRegistryError(err, Code.Internal) && /no packager for flavour npm/.test(err.message),
    );
  });

  it("answers missing for a hidden template, a template running a hidden plugin, a hidden module or dependency", async () => {
    const { service } = world();
    await assert.rejects(
      service.resolve(anonymous, request({ template: { owner: "acme", name: "internal" } })),
      isNotFound(/template acme\/internal/),
    );
    await assert.rejects(
      service.resolve(anonymous, request({ template: { owner: "protodepot", name: "uses-private" } })),
      isNotFound(/template protodepot\/uses-private/),
    );
    await assert.rejects(
      service.resolve(
        anonymous,
        request({ module: { owner: "acme", name: "secret" }, commit: { ref: ids.dep } }),
      ),
      isNotFound(/module acme\/secret/),
    );
    // demo/money is public, but its dependency is not: whoever cannot read the dependency cannot get the artifact.
    await assert.rejects(service.resolve(anonymous, request()), isNotFound(/module acme\/secret/));
    await assert.rejects(
      service.resolve(alice, request({ commit: { seq: 7 } })),
      isNotFound(/module demo\/money has no commit with sequence 7/),
    );
  });

  it("remembers a label's commit and a template's newest version within one epoch, a commit id never", async () => {
    let epoch = 0;
    const { service, calls, labels } = world({ epoch: () => epoch });
    await service.resolve(alice, request());
    await service.resolve(alice, request());
    assert.deepEqual([calls.resolveRef, calls.listTemplateVersions], [1, 1]);

    await service.resolve(alice, request({ templateVersion: 1, commit: { ref: ids.c3 } }));
    await service.resolve(alice, request({ templateVersion: 1, commit: { ref: ids.c3 } }));
    assert.equal(calls.resolveRef, 3, "a commit id is looked up each time: nothing to remember");

    // Another caller resolves for themself.
    await assert.rejects(service.resolve(anonymous, request()));
    assert.deepEqual([calls.resolveRef, calls.listTemplateVersions], [4, 2]);

    // A write moves the label: the next resolution sees it.
    labels.set("main", ids.c3);
    epoch++;
    assert.equal((await service.resolve(alice, request())).commit.id, ids.c3);
    assert.deepEqual([calls.resolveRef, calls.listTemplateVersions], [5, 3]);
  });
});

describe("generation: generate", () => {
  it("serves a stored record without the engine, and hands the engine the typed key on a miss", async () => {
    const { service, calls, jobs, store } = world();
    const resolved = await service.resolve(alice, request({ templateVersion: 1, commit: { seq: 3 } }));
    const fresh = await service.generate(resolved, { background: true });
    assert.equal(calls.generate, 1);
    const job = jobs[0];
    assert.ok(job);
    assert.deepEqual(job.artifact, resolved.key);
    assert.equal(job.key, `protodepot/es/1/${ids.c3}/module/archive`);
    assert.equal(job.background, true);
    assert.equal(job.owner, "protodepot");
    assert.deepEqual(job.payers, ["alice", "protodepot", "protodepot"]);
    assert.deepEqual(fresh, {
      ...resolved.key,
      blob: "b",
      digest: "sha256:11",
      size: 1,
      extra: {},
      createdAt: "",
    });

    store(fresh);
    const again = await service.generate(resolved);
    assert.equal(again, fresh);
    assert.equal(calls.generate, 1, "a stored artifact runs nothing");
  });

  it("locates a version without its dependencies: what .info and @latest answer even when a dependency is hidden", async () => {
    const { service } = world();
    const located = await service.locate(anonymous, {
      template: { owner: "protodepot", name: "es" },
      module: { owner: "demo", name: "money" },
      templateVersion: "latest",
      commit: { ref: "" },
    });
    assert.deepEqual(located.version, { templateVersion: 2, commitSeq: 2 });
  });
});
