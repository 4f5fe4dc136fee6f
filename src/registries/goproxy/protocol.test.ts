// The Go proxy's protocol object over a recording fake of generation: what each endpoint asks generation for.
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import type { ArtifactRecord, Commit, Template, TemplateVersion } from "../../core/types.js";
import { parseGoModulePath } from "../../ecosystems/go/names.js";
import { anonymous } from "../../services/auth.js";
import type {
  ArtifactRequest,
  GenerateOptions,
  LocatedVersion,
  ResolvedArtifact,
  VersionRequest,
} from "../../services/generation.js";
import { createGoProtocol } from "./protocol.js";

const module = parseGoModulePath("go.example/protodepot/go/demo/money", "go.example");
const template: Template = {
  id: "t",
  owner: "protodepot",
  name: "go",
  visibility: "public",
  plugins: [],
  createdAt: "",
};
const tv = (number: number): TemplateVersion => ({ templateId: "t", number, plugins: [], createdAt: "" });
const commit = (seq: number): Commit => ({
  id: String(seq).repeat(32),
  moduleId: "m",
  owner: "demo",
  module: "money",
  seq,
  digest: "sha256:00",
  sourcesBlob: "s",
  imageBlob: "i",
  createdBy: "admin",
  createdAt: `2024-01-0${seq}T00:00:00.000Z`,
});
const located = (t: number, seq: number): LocatedVersion => ({
  template,
  templateVersion: tv(t),
  commit: commit(seq),
  version: { templateVersion: t, commitSeq: seq },
});

function fake() {
  const asked: { locate: VersionRequest[]; resolve: ArtifactRequest[]; generate: GenerateOptions[] } = {
    locate: [],
    resolve: [],
    generate: [],
  };
  const generation = {
    async locate(_p: unknown, request: VersionRequest) {
      asked.locate.push(request);
      return located(2, "seq" in request.commit ? request.commit.seq : 3);
    },
    async resolve(principal: typeof anonymous, request: ArtifactRequest): Promise<ResolvedArtifact> {
      asked.resolve.push(request);
      const at = located(1, 1);
      const key = {
        templateId: "t",
        templateVersion: 1,
        commitId: at.commit.id,
        scope: request.scope,
        flavour: request.flavour,
      };
      return { ...at, principal, deps: [], scope: request.scope, flavour: request.flavour, key };
    },
    async generate(resolved: ResolvedArtifact, options: GenerateOptions = {}): Promise<ArtifactRecord> {
      asked.generate.push(options);
      return { ...resolved.key, blob: "b", digest: "sha256:zz", size: 3, extra: {}, createdAt: "" };
    },
    async open() {
      return Readable.from([Buffer.from("zip")]);
    },
    async describe() {
      throw new Error("not asked");
    },
    async listVersions() {
      return [located(2, 1), located(1, 2), located(1, 1)];
    },
  };
  return { protocol: createGoProtocol(generation), asked };
}

describe("goproxy protocol", () => {
  it("lists every version oldest first, as Go spells them", async () => {
    assert.deepEqual(await fake().protocol.list(anonymous, module), ["v1.1.1", "v1.1.2", "v1.2.1"]);
  });

  it("resolves a zip once, by template version and commit sequence, as a Go artifact of the module's files", async () => {
    const { protocol, asked } = fake();
    const signal = new AbortController().signal;
    const zip = await protocol.zip(anonymous, module, { templateVersion: 1, commitSeq: 1 }, signal);
    assert.deepEqual(asked.resolve, [
      {
        template: { owner: "protodepot", name: "go" },
        module: { owner: "demo", name: "money" },
        templateVersion: 1,
        commit: { seq: 1 },
        scope: "module",
        flavour: "go",
      },
    ]);
    assert.equal(asked.generate[0]?.signal, signal);
    assert.equal(zip.fileName, "money-v1.1.1.zip");
    assert.equal(zip.record.flavour, "go");
    assert.equal(asked.locate.length, 0, "a zip resolves once: nothing is located beside it");
  });

  it("answers .info for a version with its commit's time, and for a query with today's newest version", async () => {
    const { protocol, asked } = fake();
    assert.deepEqual(
      await protocol.info(anonymous, module, { version: { templateVersion: 2, commitSeq: 1 } }),
      {
        Version: "v1.2.1",
        Time: "2024-01-01T00:00:00.000Z",
      },
    );
    assert.deepEqual(await protocol.info(anonymous, module, { query: "main" }), {
      Version: "v1.2.3",
      Time: "2024-01-03T00:00:00.000Z",
    });
    assert.deepEqual(
      asked.locate.map((r) => [r.templateVersion, r.commit]),
      [
        [2, { seq: 1 }],
        ["latest", { ref: "main" }],
      ],
    );
    await protocol.latest(anonymous, module);
    assert.deepEqual(asked.locate.at(-1)?.commit, { ref: "" }, "@latest is the default label's head");
  });
});
