// The RubyGems catalog's own rules over fakes: which gems /versions holds (sorted, without the ones that fail or
// have no versions), what one gem's versions carry, and which names never reach generation.
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { Code, isRegistryError, RegistryError } from "../../core/errors.js";
import type { ArtifactRecord, Commit, Module, Template, TemplateVersion } from "../../core/types.js";
import { anonymous } from "../../services/auth.js";
import type { CatalogModules, CatalogOptions, PackageRef } from "../../services/catalog.js";
import type { ResolvedArtifact } from "../../services/generation.js";
import { createRubygemsCatalog } from "./catalog.js";

const template: Template = {
  id: "t",
  owner: "protodepot",
  name: "ruby",
  visibility: "public",
  plugins: [],
  createdAt: "",
};
const tv: TemplateVersion = { templateId: "t", number: 1, plugins: [], createdAt: "" };
const commit = (module: string, seq: number): Commit => ({
  id: `${module}${seq}`.padEnd(32, "0"),
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
const ref = (module: string): PackageRef => ({
  template: { owner: "protodepot", name: "ruby" },
  module: { owner: "demo", name: module },
});

/** money (1 commit), payments (2, pinning money's first), broken (its plugin fails), empty (no commits). */
function fake() {
  const commits = new Map<string, Commit[]>([
    ["money", [commit("money", 1)]],
    ["payments", [commit("payments", 1), commit("payments", 2)]],
    ["broken", [commit("broken", 1)]],
    ["empty", []],
  ]);
  const stored = new Map<string, ArtifactRecord>();
  const calls: string[] = [];
  const record = (c: Commit): ArtifactRecord => ({
    templateId: "t",
    templateVersion: 1,
    commitId: c.id,
    scope: "module",
    flavour: "rubygems",
    blob: `b-${c.id}`,
    digest: "sha256:00",
    size: 1,
    extra: {
      sha256: `${c.module}-${c.seq}`,
      dependencies: JSON.stringify(
        c.module === "payments" ? [["protodepot_ruby_demo_money", [["=", "1.1.1"]]]] : [],
      ),
      quickSpec: "",
      pins: JSON.stringify(
        c.module === "payments"
          ? [{ template: "protodepot/ruby", module: "demo/money", version: "1.1.1" }]
          : [],
      ),
    },
    createdAt: "",
  });
  const generation: CatalogOptions["generation"] = {
    async listVersions(_p, _t, m) {
      calls.push(`list ${m.name}`);
      return (commits.get(m.name) ?? []).map((c) => ({
        template,
        templateVersion: tv,
        commit: c,
        version: { templateVersion: 1, commitSeq: c.seq },
      }));
    },
    async listGenerated(_p, _t, _f, ids) {
      return [...stored.values()].filter((r) => ids.includes(r.commitId));
    },
    async resolve(p, req): Promise<ResolvedArtifact> {
      calls.push(`resolve ${req.module.name}`);
      const list = commits.get(req.module.name) ?? [];
      const c =
        "seq" in req.commit
          ? list[req.commit.seq - 1]
          : list.find((x) => "ref" in req.commit && x.id === req.commit.ref);
      if (!c) throw new RegistryError(Code.NotFound, `no such version of ${req.module.name}`);
      const key = {
        templateId: "t",
        templateVersion: 1,
        commitId: c.id,
        scope: req.scope,
        flavour: req.flavour,
      };
      return {
        principal: p,
        template,
        templateVersion: tv,
        commit: c,
        version: { templateVersion: 1, commitSeq: c.seq },
        deps: [],
        scope: req.scope,
        flavour: req.flavour,
        key,
      };
    },
    async generate(resolved) {
      if (resolved.commit.module === "broken") throw new RegistryError(Code.Unprocessable, "plugin failed");
      const r = record(resolved.commit);
      stored.set(r.commitId, r);
      return r;
    },
    async open() {
      return Readable.from([]);
    },
  };
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
      const last = commits.get(name.name)?.at(-1);
      return last ? [{ moduleId: name.name, name: "main", commitId: last.id, updatedAt: "" }] : [];
    },
  };
  const reported: unknown[] = [];
  const catalog = createRubygemsCatalog({
    generation,
    modules,
    directory: { list: async () => ["payments", "broken", "money", "empty"].map(ref) },
    cacheTtlMs: 0,
    onBackgroundError: (err) => reported.push(err),
  });
  return { catalog, calls, reported };
}

describe("RubyGems catalog", () => {
  it("lists the gems that have versions, sorted; a failing gem is reported and left out, not the index", async () => {
    const { catalog, reported } = fake();
    const gems = await catalog.gems(anonymous);
    assert.deepEqual(
      gems.map((g) => g.name),
      ["protodepot_ruby_demo_money", "protodepot_ruby_demo_payments"],
    );
    const payments = gems[1];
    assert.ok(
      payments?.versions.some((v) => v.version === "1.1.2"),
      "the default label's head is generated first",
    );
    const head = payments?.versions.find((v) => v.version === "1.1.2");
    assert.equal(head?.sha256, "payments-2");
    assert.deepEqual(head?.dependencies, [["protodepot_ruby_demo_money", [["=", "1.1.1"]]]]);
    assert.ok(
      reported.some((err) => isRegistryError(err, Code.Unprocessable)),
      "broken is reported",
    );
    assert.ok(!reported.some((err) => isRegistryError(err, Code.NotFound)), "no commits is no error");
    catalog.close();
  });

  it("answers someone else's gem with nothing and a malformed or hidden one of ours as missing, before generating", async () => {
    const { catalog, calls } = fake();
    assert.equal(await catalog.gem(anonymous, "google-protobuf"), undefined);
    await assert.rejects(catalog.gem(anonymous, "a_b_c"), (err) =>
      isRegistryError(err, Code.InvalidArgument),
    );
    await assert.rejects(
      catalog.artifact(anonymous, "protodepot_ruby_demo_money", "2.0"),
      (err) => isRegistryError(err, Code.NotFound) && /versions 1\.\{template version\}/.test(err.message),
    );
    await assert.rejects(catalog.artifact(anonymous, "google-protobuf", "3.21.12"), (err) =>
      isRegistryError(err, Code.NotFound),
    );
    assert.deepEqual(calls, [], "nothing was looked up or generated");
    await assert.rejects(
      catalog.gem(anonymous, "protodepot_ruby_demo_empty"),
      (err) =>
        isRegistryError(err, Code.NotFound) &&
        /gem protodepot_ruby_demo_empty does not exist/.test(err.message),
    );
    const artifact = await catalog.artifact(anonymous, "protodepot_ruby_demo_payments", "1.1.1");
    assert.equal(artifact.record.extra.sha256, "payments-1", "any valid version is generated on request");
    catalog.close();
  });
});
