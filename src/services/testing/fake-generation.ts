// An in-memory generation service for the package registries' route tests: one template over demo/money with three
// commits, recording what it generated, so each registry's test states only its own flavour and artifact extras.
import { Readable } from "node:stream";
import { Code, RegistryError } from "../../core/errors.js";
import type { FullName } from "../../core/names.js";
import type {
  ArtifactRecord,
  Commit,
  Flavour,
  Label,
  Module,
  Template,
  TemplateVersion,
} from "../../core/types.js";
import type { Principal } from "../auth.js";
import type { CatalogModules, CatalogOptions } from "../catalog.js";
import type { ResolvedArtifact } from "../generation.js";

export const missing = (what: string) => new RegistryError(Code.NotFound, `${what} does not exist`);

/** demo/money's commits 1, 2, 3 (ids "111…", "222…", "333…"), created at `createdAt(seq)`. */
export function demoCommits(createdAt: (seq: number) => string): Commit[] {
  return [1, 2, 3].map((seq) => ({
    id: String(seq).repeat(32),
    moduleId: "m1",
    owner: "demo",
    module: "money",
    seq,
    digest: "sha256:00",
    sourcesBlob: "s",
    imageBlob: "i",
    createdBy: "admin",
    createdAt: createdAt(seq),
  }));
}

export const templateVersion: TemplateVersion = {
  templateId: "t1",
  number: 1,
  plugins: [],
  createdAt: "2024-01-01T00:00:00Z",
};

/** Every module public, with main as its default label and `labels` as its labels. */
export function publicModules(labels: Label[]): CatalogModules {
  return {
    async getModule(_p, name): Promise<Module> {
      return {
        id: "m1",
        owner: name.owner,
        name: name.name,
        visibility: "public",
        defaultLabel: "main",
        createdAt: "",
      };
    },
    async listLabels() {
      return labels;
    },
  };
}

export interface FakeGenerationOptions {
  /** `protodepot/{name}`, the template t1. */
  templateName: string;
  flavour: Flavour;
  commits: readonly Commit[];
  /** Throws NotFound unless the caller may see the module under the template. */
  check(p: Principal, template: FullName, module: FullName): void;
  /** The artifact's size and extras, per commit. */
  artifact(commitId: string): { size: number; extra: Record<string, string> };
  /** What every open() streams. */
  bytes: Buffer;
}

export interface FakeGeneration {
  service: CatalogOptions["generation"];
  /** Commit ids in the order generate() was called. */
  generated: string[];
  records: Map<string, ArtifactRecord>;
  record(commitId: string): ArtifactRecord;
}

export function createFakeGeneration(o: FakeGenerationOptions): FakeGeneration {
  const records = new Map<string, ArtifactRecord>();
  const generated: string[] = [];
  const template: Template = {
    id: "t1",
    owner: "protodepot",
    name: o.templateName,
    visibility: "public",
    plugins: [],
    createdAt: "",
  };
  const record = (commitId: string): ArtifactRecord => ({
    templateId: "t1",
    templateVersion: 1,
    commitId,
    scope: "module",
    flavour: o.flavour,
    blob: `blob-${commitId}`,
    digest: "sha256:ab",
    ...o.artifact(commitId),
    createdAt: "",
  });
  const resolved = (p: Principal, commit: Commit, flavour: Flavour): ResolvedArtifact => ({
    principal: p,
    template,
    templateVersion,
    commit,
    version: { templateVersion: 1, commitSeq: commit.seq },
    deps: [],
    scope: "module",
    flavour,
    key: { templateId: "t1", templateVersion: 1, commitId: commit.id, scope: "module", flavour },
  });
  const service: CatalogOptions["generation"] = {
    async listVersions(p, t, m) {
      o.check(p, t, m);
      return o.commits.map((commit) => ({
        template,
        templateVersion,
        commit,
        version: { templateVersion: 1, commitSeq: commit.seq },
      }));
    },
    async listGenerated(_p, _t, _f, ids) {
      return ids.flatMap((id) => records.get(id) ?? []);
    },
    async resolve(p, req) {
      const wanted = req.commit;
      if ("seq" in wanted) {
        o.check(p, req.template, req.module);
        const commit = o.commits.find((c) => c.seq === wanted.seq);
        const m = req.module;
        if (!commit || req.templateVersion !== 1)
          throw missing(`module ${m.owner}/${m.name} commit with sequence ${wanted.seq}`);
        return resolved(p, commit, req.flavour);
      }
      const commit = o.commits.find((c) => c.id === wanted.ref);
      if (!commit) throw missing(`commit ${wanted.ref}`);
      return resolved(p, commit, req.flavour);
    },
    async generate(artifact) {
      generated.push(artifact.commit.id);
      const r = record(artifact.commit.id);
      records.set(artifact.commit.id, r);
      return r;
    },
    async open() {
      return Readable.from([o.bytes]);
    },
  };
  return { service, generated, records, record };
}
