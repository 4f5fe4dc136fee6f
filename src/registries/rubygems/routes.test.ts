import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import { Code, RegistryError } from "../../core/errors.js";
import type { ArtifactRecord, Commit } from "../../core/types.js";
import { registerRegistry } from "../../http/registry-plugin.js";
import { createAuthService, type Principal } from "../../services/auth.js";
import type { MetadataStore } from "../../storage/meta/metadata-store.js";
import { createSqliteMetadataStore } from "../../storage/meta/sqlite/sqlite-metadata-store.js";
import type { GemListing, RubygemsCatalog } from "./catalog.js";
import { rubygemsAuthorization } from "./credentials.js";
import { renderInfo } from "./render.js";
import { rubygemsRegistry } from "./routes.js";

const gem = "protodepot_ruby_demo_payments";
const secret = "protodepot_ruby_acme_ledger";
const commit: Commit = {
  id: "c".repeat(32),
  moduleId: "m1",
  owner: "demo",
  module: "payments",
  seq: 1,
  digest: "sha256:00",
  sourcesBlob: "s",
  imageBlob: "i",
  createdBy: "admin",
  createdAt: "2024-01-01T00:00:00Z",
};
const listing = (name: string): GemListing => ({
  name,
  versions: [{ version: "1.1.1", dependencies: [], sha256: "a".repeat(64), commit }],
});
const record: ArtifactRecord = {
  templateId: "t1",
  templateVersion: 1,
  commitId: commit.id,
  scope: "module",
  flavour: "rubygems",
  blob: "b",
  digest: `sha256:${"d".repeat(64)}`,
  size: 3,
  extra: { sha256: "a".repeat(64), dependencies: "[]", quickSpec: Buffer.from("spec").toString("base64") },
  createdAt: "",
};

/** Knows one public gem and one private one that only a user sees; records who asked. */
function fakeCatalog() {
  const calls: { op: string; principal: Principal }[] = [];
  const visible = (principal: Principal, name: string) =>
    name === gem || (name === secret && !!principal.user);
  const catalog: RubygemsCatalog = {
    async gems(principal) {
      calls.push({ op: "gems", principal });
      return principal.user ? [listing(secret), listing(gem)] : [listing(gem)];
    },
    async gem(principal, name) {
      calls.push({ op: `gem ${name}`, principal });
      if (!name.includes("_")) return undefined;
      if (!visible(principal, name)) throw new RegistryError(Code.NotFound, `gem ${name} does not exist`);
      return listing(name);
    },
    async artifact(principal, name, version) {
      calls.push({ op: `artifact ${name} ${version}`, principal });
      if (!visible(principal, name) || version !== "1.1.1")
        throw new RegistryError(Code.NotFound, `gem ${name} has no version ${version}`);
      return { record, open: async () => Buffer.from("gem") };
    },
    close() {},
  };
  return { catalog, calls };
}

describe("RubyGems routes", () => {
  let dir: string;
  let meta: MetadataStore;
  let app: FastifyInstance;
  let token: string;
  const fake = fakeCatalog();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "protodepot-gems-routes-"));
    meta = await createSqliteMetadataStore({ path: join(dir, "meta.sqlite") });
    const auth = createAuthService(meta);
    const user = await meta.createUser({ name: "alice", isAdmin: false });
    token = (await auth.issueToken(user.id, "gem")).secret;
    app = Fastify();
    registerRegistry(app, auth, rubygemsRegistry(fake.catalog));
    await app.ready();
  });
  after(async () => {
    await app.close();
    await meta.close();
    await rm(dir, { recursive: true, force: true });
  });

  const get = (url: string, headers: Record<string, string> = {}, method: "GET" | "HEAD" = "GET") =>
    app.inject({ method, url, headers });
  const asGem = () => ({ authorization: `Basic ${Buffer.from(`${token}:`).toString("base64")}` });

  it("the root answers HEAD with 200 to everyone (gem install picks the compact index by it)", async () => {
    assert.equal((await get("/gems/", {}, "HEAD")).statusCode, 200);
    assert.equal((await get("/gems", {})).statusCode, 301);
  });

  it("versions and info: what the caller may see, with the token as gem and Bundler send it", async () => {
    const anonymous = await get("/gems/versions");
    assert.equal(anonymous.statusCode, 200);
    assert.ok(!anonymous.body.includes(secret));
    const mine = await get("/gems/versions", asGem());
    assert.ok(mine.body.includes(`${secret} 1.1.1 `));
    assert.equal(fake.calls.at(-1)?.principal.user?.name, "alice", "Basic TOKEN: authenticates");
    assert.equal(mine.headers.vary, "Authorization");
    assert.equal((await get(`/gems/info/${secret}`)).statusCode, 404);
    const info = await get(`/gems/info/${secret}`, asGem());
    assert.equal(info.body, renderInfo(listing(secret)));
    assert.equal((await get("/gems/info/google-protobuf")).body, "---\n");
    const etag = String(info.headers.etag);
    assert.equal((await get(`/gems/info/${secret}`, { ...asGem(), "if-none-match": etag })).statusCode, 304);
  });

  it("gems and quick specs: immutable bytes, 404 for hidden ones and for names of other shapes", async () => {
    const res = await get(`/gems/gems/${gem}-1.1.1.gem`);
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, "gem");
    assert.equal(res.headers["cache-control"], "public, max-age=31536000, immutable");
    const spec = await get(`/gems/quick/Marshal.4.8/${gem}-1.1.1.gemspec.rz`);
    assert.equal(spec.body, "spec");
    assert.notEqual(spec.headers.etag, res.headers.etag);
    assert.equal((await get(`/gems/gems/${secret}-1.1.1.gem`)).statusCode, 404);
    assert.equal((await get(`/gems/gems/${secret}-1.1.1.gem`, asGem())).statusCode, 200);
    const before = fake.calls.length;
    const bad = await get("/gems/gems/nodash.gem");
    assert.equal(bad.statusCode, 404);
    assert.match(bad.body, /gems are named \{name\}-\{version\}\.gem/);
    assert.equal(fake.calls.length, before, "a file name of no gem is answered without the catalog");
    // Longer than Fastify's 100-character parameters: our names may be 259 characters.
    const long = `${"a".repeat(64)}_${"b".repeat(64)}_${"c".repeat(64)}_${"d".repeat(64)}`;
    const longGem = await get(`/gems/gems/${long}-1.1.1.gem`);
    assert.equal(longGem.statusCode, 404);
    assert.match(longGem.body, new RegExp(`gem ${long} has no version 1\\.1\\.1`));
    assert.equal((await get(`/gems/info/${"x".repeat(600)}`)).statusCode, 404);
    assert.equal((await get("/gems/info/a/b")).statusCode, 404);
  });

  it("a wrong token is 401 in every form; pushes and unknown paths answer clearly", async () => {
    const before = fake.calls.length;
    for (const authorization of [
      `Basic ${Buffer.from("pd_wrong:").toString("base64")}`,
      `Basic ${Buffer.from("x:pd_wrong").toString("base64")}`,
      "Bearer pd_wrong",
    ]) {
      assert.equal((await get("/gems/versions", { authorization })).statusCode, 401, authorization);
    }
    assert.equal(fake.calls.length, before);
    const push = await app.inject({
      method: "POST",
      url: "/gems/api/v1/gems",
      payload: "x",
      headers: { "content-type": "application/octet-stream" },
    });
    assert.equal(push.statusCode, 412);
    assert.match(push.body, /read-only, gems are generated from pushed modules/);
    const legacy = await get("/gems/specs.4.8.gz");
    assert.equal(legacy.statusCode, 404);
    assert.match(legacy.body, /compact index/);
  });
});

describe("RubyGems credentials", () => {
  it("read Basic TOKEN: as the token, and leave every other form to the shared reading", () => {
    const basic = (s: string) => `Basic ${Buffer.from(s).toString("base64")}`;
    assert.equal(rubygemsAuthorization(basic("pd_abc:")), "Bearer pd_abc");
    assert.equal(rubygemsAuthorization(basic("user:pd_abc")), basic("user:pd_abc"));
    assert.equal(rubygemsAuthorization(basic(":")), basic(":"));
    assert.equal(rubygemsAuthorization("Bearer pd_abc"), "Bearer pd_abc");
    assert.equal(rubygemsAuthorization(undefined), undefined);
  });
});
