// The listing policy package registries share, over a fake generation service: which versions are listed, which
// are generated first (tag targets, pinned dependencies), what is warmed, and what a failing dependency leaves out.
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { Code, isRegistryError, RegistryError } from "../core/errors.js";
import type { ArtifactRecord, Commit, Label, Module, Template, TemplateVersion } from "../core/types.js";
import { anonymous } from "./auth.js";
import { type CatalogModules, type CatalogOptions, createCatalog, type PinnedPackage } from "./catalog.js";
import type { ResolvedArtifact } from "./generation.js";

const pkg = { template: { owner: "protodepot", name: "es" }, module: { owner: "demo", name: "money" } };
const dep = { template: pkg.template, module: { owner: "demo", name: "units" } };

const commit = (module: string, seq: number): Commit => ({
  id: `${module[0]}${seq}`.padEnd(32, "0"),
  moduleId: module,
  owner: "demo",
  module,
  seq,
  digest: "sha256:00",
  sourcesBlob: "s",
  imageBlob: "i",
  createdBy: "admin",
  createdAt: "",
});
const template: Template = {
  id: "t",
  owner: "protodepot",
  name: "es",
  visibility: "public",
  plugins: [],
  createdAt: "",
};
const tv = (number: number): TemplateVersion => ({ templateId: "t", number, plugins: [], createdAt: "" });

/**
 * demo/money has commits 1–4 (main → 4, beta → 2) under template versions 1 and 2; demo/units has commit 1.
 * Records what is generated, in order, and which generations were background ones.
 */
function fake(opts: { generated?: [number, number][]; failing?: string[] } = {}) {
  const commits = new Map([
    ["money", [1, 2, 3, 4].map((s) => commit("money", s))],
    ["units", [commit("units", 1)]],
  ]);
  const versions = [tv(1), tv(2)];
  const stored = new Map<string, ArtifactRecord>();
  const generated: string[] = [];
  const background: string[] = [];
  const record = (templateVersion: number, c: Commit): ArtifactRecord => ({
    templateId: "t",
    templateVersion,
    commitId: c.id,
    scope: "module",
    flavour: "npm",
    blob: `b-${c.id}`,
    digest: "sha256:00",
    size: 1,
    extra: {},
    createdAt: "",
  });
  const keyOf = (templateVersion: number, commitId: string) => `${templateVersion}/${commitId}`;
  for (const [t, seq] of opts.generated ?? []) {
    const c = commits.get("money")?.[seq - 1];
    if (c) stored.set(keyOf(t, c.id), record(t, c));
  }
  const generation: CatalogOptions["generation"] = {
    async listVersions(_p, _t, m) {
      const list = commits.get(m.name) ?? [];
      return versions.flatMap((templateVersion) =>
        list.map((c) => ({
          template,
          templateVersion,
          commit: c,
          version: { templateVersion: templateVersion.number, commitSeq: c.seq },
        })),
      );
    },
    async listGenerated(_p, _t, _f, ids) {
      return [...stored.values()].filter((r) => ids.includes(r.commitId));
    },
    async resolve(p, req): Promise<ResolvedArtifact> {
      const list = commits.get(req.module.name) ?? [];
      const wanted = req.commit;
      const c = "seq" in wanted ? list[wanted.seq - 1] : list.find((x) => x.id === wanted.ref);
      if (!c || typeof req.templateVersion !== "number")
        throw new RegistryError(Code.NotFound, `no such version of ${req.module.name}`);
      const key = {
        templateId: "t",
        templateVersion: req.templateVersion,
        commitId: c.id,
        scope: req.scope,
        flavour: req.flavour,
      };
      return {
        principal: p,
        template,
        templateVersion: tv(req.templateVersion),
        commit: c,
        version: { templateVersion: req.templateVersion, commitSeq: c.seq },
        deps: [],
        scope: req.scope,
        flavour: req.flavour,
        key,
      };
    },
    async generate(resolved, options) {
      const name = `${resolved.commit.module}@${resolved.version.templateVersion}.${resolved.commit.seq}`;
      if (opts.failing?.includes(name))
        throw new RegistryError(Code.Unprocessable, `plugin failed on ${name}`);
      generated.push(name);
      if (options?.background) background.push(name);
      const r = record(resolved.version.templateVersion, resolved.commit);
      stored.set(keyOf(r.templateVersion, r.commitId), r);
      return r;
    },
    async open() {
      return Readable.from([]);
    },
  };
  const labels: Label[] = [
    { moduleId: "money", name: "main", commitId: commit("money", 4).id, updatedAt: "" },
    { moduleId: "money", name: "beta", commitId: commit("money", 2).id, updatedAt: "" },
    { moduleId: "money", name: "v1", commitId: commit("money", 1).id, updatedAt: "" },
  ];
  const modules: CatalogModules = {
    async getModule(_p, name): Promise<Module> {
      return {
        id: name.name,
        owner: "demo",
        name: name.name,
        visibility: "public",
        defaultLabel: "main",
        createdAt: "",
      };
    },
    async listLabels(_p, name) {
      return name.name === "money" ? labels : [];
    },
  };
  return { generation, modules, generated, background, stored };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 10));
const listed = (versions: { version: { templateVersion: number; commitSeq: number } }[]) =>
  versions.map((v) => `${v.version.templateVersion}.${v.version.commitSeq}`);

describe("catalog", () => {
  it("generates the tag targets of the newest template version first and lists what is generated", async () => {
    const f = fake({ generated: [[1, 3]] });
    const catalog = createCatalog({
      ...f,
      flavour: "npm",
      isTag: (label) => label === "beta",
      dependenciesOf: () => [],
      warmLimit: 0,
      cacheTtlMs: 0,
    });
    const listing = await catalog.list(anonymous, pkg);
    // latest (main → 4) and beta (→ 2) under template version 2; 1.3 was already there; label v1 is no tag.
    assert.deepEqual(f.generated.sort(), ["money@2.2", "money@2.4"]);
    assert.deepEqual(listed(listing.versions), ["1.3", "2.2", "2.4"]);
    assert.deepEqual(Object.fromEntries(listing.tags), {
      latest: { templateVersion: 2, commitSeq: 4 },
      beta: { templateVersion: 2, commitSeq: 2 },
    });
  });

  it("warms the newest template version's other commits in the background, newest first, up to the limit", async () => {
    const f = fake();
    const catalog = createCatalog({
      ...f,
      flavour: "npm",
      isTag: () => false,
      dependenciesOf: () => [],
      warmLimit: 2,
      cacheTtlMs: 0,
    });
    const first = await catalog.list(anonymous, pkg);
    assert.deepEqual(listed(first.versions), ["2.4"]);
    await settle();
    assert.deepEqual(f.background, ["money@2.3", "money@2.2"]);
    const second = await catalog.list(anonymous, pkg);
    assert.deepEqual(listed(second.versions), ["2.2", "2.3", "2.4"]);
    catalog.close();
  });

  it("generates the exact dependency versions a listed version pins, and leaves out one whose dependency fails", async () => {
    const pins = new Map<string, PinnedPackage[]>([
      [commit("money", 4).id, [{ ...dep, version: { templateVersion: 2, commitSeq: 1 } }]],
      [commit("money", 3).id, [{ ...dep, version: { templateVersion: 2, commitSeq: 9 } }]],
    ]);
    const errors: unknown[] = [];
    const f = fake({ generated: [[2, 3]] });
    const catalog = createCatalog({
      ...f,
      flavour: "npm",
      isTag: () => false,
      dependenciesOf: (r) => pins.get(r.commitId) ?? [],
      warmLimit: 0,
      cacheTtlMs: 0,
      onBackgroundError: (err) => errors.push(err),
    });
    const listing = await catalog.list(anonymous, pkg);
    assert.ok(f.generated.includes("units@2.1"), "the pinned dependency version is generated before listing");
    // 2.3 pins units 2.9, which does not exist: listing it would break every install of it.
    assert.deepEqual(listed(listing.versions), ["2.4"]);
    assert.ok(errors.some((e) => isRegistryError(e, Code.NotFound)));
  });

  it("fails the listing when a tag target's dependency fails: the error is the useful answer", async () => {
    const f = fake({ failing: ["units@2.1"] });
    const catalog = createCatalog({
      ...f,
      flavour: "npm",
      isTag: () => false,
      dependenciesOf: (r) =>
        r.commitId === commit("money", 4).id
          ? [{ ...dep, version: { templateVersion: 2, commitSeq: 1 } }]
          : [],
      warmLimit: 0,
      cacheTtlMs: 0,
    });
    await assert.rejects(catalog.list(anonymous, pkg), /plugin failed on units@2.1/);
  });

  it("checks each listed artifact's dependencies once, and again once the bounded memory forgot it", async () => {
    const checksOver = async (depsCheckedMax: number | undefined) => {
      const f = fake({
        generated: [
          [2, 3],
          [2, 4],
        ],
      });
      let checks = 0;
      const catalog = createCatalog({
        ...f,
        flavour: "npm",
        isTag: () => false,
        dependenciesOf: () => {
          checks++;
          return [];
        },
        warmLimit: 0,
        cacheTtlMs: 0,
        ...(depsCheckedMax ? { depsCheckedMax } : {}),
      });
      await catalog.list(anonymous, pkg);
      await catalog.list(anonymous, pkg);
      return checks;
    };
    assert.equal(await checksOver(undefined), 2, "two listed artifacts, each checked once over two listings");
    assert.ok((await checksOver(1)) > 2, "a memory of one artifact forgets the other: it is checked again");
  });

  it("answers an exact version's artifact by its commit sequence, generating it if needed", async () => {
    const f = fake();
    const catalog = createCatalog({
      ...f,
      flavour: "npm",
      isTag: () => false,
      dependenciesOf: () => [],
      warmLimit: 0,
      cacheTtlMs: 0,
    });
    const artifact = await catalog.artifact(anonymous, pkg, { templateVersion: 1, commitSeq: 2 });
    assert.equal(artifact.record.commitId, commit("money", 2).id);
    assert.deepEqual(f.generated, ["money@1.2"]);
    await assert.rejects(
      catalog.artifact(anonymous, pkg, { templateVersion: 1, commitSeq: 7 }),
      (err: unknown) => isRegistryError(err, Code.NotFound),
    );
  });
});
