import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import { Code, RegistryError } from "../../core/errors.js";
import type { Label } from "../../core/types.js";
import { registerRegistry } from "../../http/registry-plugin.js";
import type { AuthService } from "../../services/auth.js";
import {
  createFakeGeneration,
  demoCommits,
  missing,
  publicModules,
} from "../../services/testing/fake-generation.js";
import { createCatalog, distTagTargets, isUsableDistTag } from "./catalog.js";
import { npmRegistry } from "./routes.js";

const commits = demoCommits((seq) => `2024-01-0${seq}T00:00:00.000Z`);
const labels: Label[] = [
  { moduleId: "m1", name: "main", commitId: commits[2]?.id ?? "", updatedAt: "" },
  { moduleId: "m1", name: "beta", commitId: commits[1]?.id ?? "", updatedAt: "" },
  { moduleId: "m1", name: "v2", commitId: commits[0]?.id ?? "", updatedAt: "" },
];

/** An in-memory generation service over demo/money under protodepot/es; records what it generated. */
function fakeGeneration(dependencies = '{"@bufbuild/protobuf":"^2.13.0"}') {
  return createFakeGeneration({
    templateName: "es",
    flavour: "npm",
    commits,
    check(_p, t, m) {
      if (t.owner !== "protodepot" || t.name !== "es" || m.owner !== "demo" || m.name !== "money")
        throw missing(`module ${m.owner}/${m.name}`);
    },
    artifact: (commitId) => ({
      size: 5,
      extra: { integrity: `sha512-${commitId.slice(0, 4)}`, shasum: "00", dependencies },
    }),
    bytes: Buffer.from("bytes"),
  });
}

const modules = publicModules(labels);

const seenAuthorization: (string | undefined)[] = [];
const auth = {
  async authenticate(header: string | undefined) {
    seenAuthorization.push(header);
    if (header === "Bearer wrong") throw new RegistryError(Code.Unauthenticated, "unknown token");
    return {};
  },
} as unknown as AuthService;

describe("npm routes", () => {
  let app: FastifyInstance;
  let fake: ReturnType<typeof fakeGeneration>;
  const name = "@protodepot/protodepot_es_demo_money";

  before(async () => {
    fake = fakeGeneration();
    app = Fastify();
    registerRegistry(
      app,
      auth,
      npmRegistry(createCatalog({ generation: fake.service, modules, scope: "protodepot", cacheTtlMs: 0 }), {
        scope: "protodepot",
        publicUrl: "https://registry.example/",
      }),
    );
    await app.ready();
  });
  after(() => app.close());

  it("serves the packument at @scope%2fname and @scope/name, tags generated, integrity on every version", async () => {
    const escaped = await app.inject({
      url: `/npm/@protodepot%2fprotodepot_es_demo_money`,
      headers: { authorization: "Bearer t" },
    });
    assert.equal(escaped.statusCode, 200, escaped.body);
    assert.equal(seenAuthorization.at(-1), "Bearer t");
    const body = escaped.json() as {
      name: string;
      "dist-tags": Record<string, string>;
      versions: Record<
        string,
        { dist: { tarball: string; integrity: string; shasum: string }; dependencies: unknown }
      >;
    };
    assert.equal(body.name, name);
    // `v2` is a semver range to npm, so it is no dist-tag.
    assert.deepEqual(body["dist-tags"], { latest: "1.1.3", main: "1.1.3", beta: "1.1.2" });
    for (const v of Object.values(body.versions)) {
      assert.match(v.dist.integrity, /^sha512-/);
      assert.equal(v.dist.shasum, "00");
    }
    assert.ok(body.versions["1.1.3"] && body.versions["1.1.2"]);
    assert.equal(
      body.versions["1.1.3"]?.dist.tarball,
      "https://registry.example/npm/@protodepot/protodepot_es_demo_money/-/protodepot_es_demo_money-1.1.3.tgz",
    );
    assert.deepEqual(body.versions["1.1.3"]?.dependencies, { "@bufbuild/protobuf": "^2.13.0" });

    const plain = await app.inject({ url: `/npm/${name}` });
    assert.equal(plain.statusCode, 200);
    // Background warming lists commit 1 by now or soon; tagged versions are there from the first answer.
    assert.ok("1.1.3" in (plain.json() as { versions: object }).versions);
  });

  it("lists versions warmed in the background, and answers 304 to a matching If-None-Match", async () => {
    await new Promise((resolve) => setTimeout(resolve, 20));
    const first = await app.inject({ url: `/npm/${name}` });
    assert.deepEqual(Object.keys((first.json() as { versions: object }).versions), [
      "1.1.1",
      "1.1.2",
      "1.1.3",
    ]);
    const again = await app.inject({
      url: `/npm/${name}`,
      headers: { "if-none-match": String(first.headers.etag) },
    });
    assert.equal(again.statusCode, 304);
  });

  it("streams a tarball, and 404s an unknown version or file with a readable error", async () => {
    const ok = await app.inject({ url: `/npm/${name}/-/protodepot_es_demo_money-1.1.2.tgz` });
    assert.equal(ok.statusCode, 200);
    assert.equal(ok.body, "bytes");
    assert.equal(ok.headers["content-length"], "5");

    const unknownVersion = await app.inject({ url: `/npm/${name}/-/protodepot_es_demo_money-1.1.9.tgz` });
    assert.equal(unknownVersion.statusCode, 404);
    assert.match((unknownVersion.json() as { error: string }).error, /has no version 1\.1\.9/);

    const wrongFile = await app.inject({ url: `/npm/${name}/-/other-1.1.2.tgz` });
    assert.equal(wrongFile.statusCode, 404);
    assert.match(
      (wrongFile.json() as { error: string }).error,
      /tarballs are named protodepot_es_demo_money-\{version\}\.tgz/,
    );

    const badVersion = await app.inject({ url: `/npm/${name}/-/protodepot_es_demo_money-v1.1.2.tgz` });
    assert.equal(badVersion.statusCode, 404);
  });

  it("404s unknown and foreign packages, 400s malformed names, 401s bad tokens", async () => {
    const unknown = await app.inject({ url: "/npm/@protodepot%2fprotodepot_es_demo_nothing" });
    assert.equal(unknown.statusCode, 404);
    assert.deepEqual(unknown.json(), { error: "module demo/nothing does not exist" });

    const foreign = await app.inject({ url: "/npm/lodash" });
    assert.equal(foreign.statusCode, 404);
    assert.match((foreign.json() as { error: string }).error, /not served here/);

    const malformed = await app.inject({ url: "/npm/@protodepot%2fjust_two" });
    assert.equal(malformed.statusCode, 400);
    assert.match((malformed.json() as { error: string }).error, /invalid package name/);

    const denied = await app.inject({ url: `/npm/${name}`, headers: { authorization: "Bearer wrong" } });
    assert.equal(denied.statusCode, 401);
    assert.deepEqual(denied.json(), { error: "unknown token" });
  });

  it("serves dist-tags, ping, and npm-style errors for everything else", async () => {
    const tags = await app.inject({ url: `/npm/-/package/@protodepot%2fprotodepot_es_demo_money/dist-tags` });
    assert.deepEqual(tags.json(), { latest: "1.1.3", main: "1.1.3", beta: "1.1.2" });
    assert.equal((await app.inject({ url: "/npm/-/ping" })).statusCode, 200);
    const publish = await app.inject({
      method: "PUT",
      url: `/npm/@protodepot%2fprotodepot_es_demo_money`,
      payload: {},
    });
    assert.equal(publish.statusCode, 412);
    assert.match((publish.json() as { error: string }).error, /read-only/);
    const nowhere = await app.inject({ url: "/npm/a/b/c/d" });
    assert.equal(nowhere.statusCode, 404);
  });
});

describe("dist-tags", () => {
  it("skips names npm reads as semver ranges and the reserved latest", () => {
    for (const ok of ["main", "beta", "release-2024", "next"]) assert.equal(isUsableDistTag(ok), true, ok);
    for (const bad of ["v2", "1.x", "1", "latest", "2.0.0"]) assert.equal(isUsableDistTag(bad), false, bad);
  });

  it("points latest at the default label's head", () => {
    const tags = distTagTargets(labels, "beta");
    assert.equal(tags.get("latest"), commits[1]?.id);
    assert.equal(tags.get("main"), commits[2]?.id);
  });
});

describe("catalog", () => {
  it("generates the exact versions a listed version depends on before listing it", async () => {
    // Every version of the fake depends on 1.1.1 of the same package; warming is off, so only that rule generates it.
    const fake = fakeGeneration('{"@protodepot/protodepot_es_demo_money":"1.1.1","@bufbuild/protobuf":"^2"}');
    const catalog = createCatalog({
      generation: fake.service,
      modules,
      scope: "protodepot",
      warmLimit: 0,
      cacheTtlMs: 0,
    });
    await catalog.list({}, "@protodepot/protodepot_es_demo_money");
    assert.deepEqual(
      [...new Set(fake.generated)].sort(),
      [commits[0]?.id, commits[1]?.id, commits[2]?.id].sort(),
    );
  });
});
