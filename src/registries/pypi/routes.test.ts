// The PyPI index's handlers over a real auth service (SQLite) and a catalog fake, without sockets.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import { Code, RegistryError } from "../../core/errors.js";
import type { ArtifactRecord, Commit } from "../../core/types.js";
import { registerRegistry } from "../../http/registry-plugin.js";
import type { Principal } from "../../services/auth.js";
import { createAuthService } from "../../services/auth.js";
import type { MetadataStore } from "../../storage/meta/metadata-store.js";
import { createSqliteMetadataStore } from "../../storage/meta/sqlite/sqlite-metadata-store.js";
import type { ProjectListing, PypiCatalog } from "./catalog.js";
import { negotiate } from "./negotiate.js";
import { pypiRegistry } from "./routes.js";

const project = "protodepot-python-demo-payments";
const wheelName = "protodepot_python_demo_payments-1.1.2-py3-none-any.whl";
const sha = "a".repeat(64);
const metadataSha = "b".repeat(64);
const commit: Commit = {
  id: "c".repeat(32),
  moduleId: "m1",
  owner: "demo",
  module: "payments",
  seq: 2,
  digest: "sha256:00",
  sourcesBlob: "s",
  imageBlob: "i",
  createdBy: "admin",
  createdAt: "2024-01-01T00:00:00Z",
};
const pip23 =
  "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01";

const record: ArtifactRecord = {
  templateId: "t1",
  templateVersion: 1,
  commitId: commit.id,
  scope: "module",
  flavour: "pypi",
  blob: "b",
  digest: `sha256:${"d".repeat(64)}`,
  size: 5,
  extra: { sha256: sha, metadataSha256: metadataSha, metadata: "Metadata-Version: 2.1\nName: x\n" },
  createdAt: "",
};

/** Records every principal it is asked with; knows one public project and one private one for users. */
function fakeCatalog() {
  const calls: { op: string; principal: Principal }[] = [];
  const listing: ProjectListing = {
    project,
    files: [
      {
        fileName: wheelName,
        version: "1.1.2",
        sha256: sha,
        size: 5,
        metadataSha256: metadataSha,
        requiresPython: ">=3.7",
        commit,
      },
    ],
  };
  const catalog: PypiCatalog = {
    async projects(principal) {
      calls.push({ op: "projects", principal });
      return principal.user ? [project, "protodepot-python-acme-ledger"] : [project];
    },
    async project(principal, name) {
      calls.push({ op: "project", principal });
      if (name === "requests")
        throw new RegistryError(Code.InvalidArgument, `invalid project name "${name}"`);
      if (name !== project) throw new RegistryError(Code.NotFound, `project ${name} does not exist`);
      return listing;
    },
    async wheel(principal, name, version) {
      calls.push({ op: `wheel ${name} ${version}`, principal });
      if (version !== "1.1.2")
        throw new RegistryError(Code.NotFound, `project ${name} has no version ${version}`);
      return { record, open: async () => Buffer.from("wheel") };
    },
    close() {},
  };
  return { catalog, calls };
}

describe("PyPI routes", () => {
  let dir: string;
  let meta: MetadataStore;
  let app: FastifyInstance;
  let token: string;
  const fake = fakeCatalog();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "protodepot-pypi-routes-"));
    meta = await createSqliteMetadataStore({ path: join(dir, "meta.sqlite") });
    const auth = createAuthService(meta);
    const user = await meta.createUser({ name: "alice", isAdmin: false });
    token = (await auth.issueToken(user.id, "pip")).secret;
    app = Fastify();
    registerRegistry(app, auth, pypiRegistry(fake.catalog));
    await app.ready();
  });
  after(async () => {
    await app.close();
    await meta.close();
    await rm(dir, { recursive: true, force: true });
  });

  const get = (url: string, headers: Record<string, string> = {}) =>
    app.inject({ method: "GET", url, headers });
  const basic = () => ({ authorization: `Basic ${Buffer.from(`__token__:${token}`).toString("base64")}` });

  it("root: PEP 503 HTML by default, PEP 691 JSON for pip's Accept, what the caller may see", async () => {
    const html = await get("/pypi/simple/");
    assert.equal(html.statusCode, 200);
    assert.equal(html.headers["content-type"], "text/html; charset=utf-8");
    assert.match(html.body, /<meta name="pypi:repository-version" content="1\.4">/);
    assert.match(html.body, new RegExp(`<a href="${project}/">${project}</a>`));
    assert.equal(html.headers.vary, "Accept, Authorization");
    const json = await get("/pypi/simple/", { accept: pip23, ...basic() });
    assert.match(String(json.headers["content-type"]), /^application\/vnd\.pypi\.simple\.v1\+json/);
    assert.deepEqual(json.json(), {
      meta: { "api-version": "1.4" },
      projects: [{ name: project }, { name: "protodepot-python-acme-ledger" }],
    });
    assert.equal(fake.calls.at(-1)?.principal.user?.name, "alice", "Basic __token__:TOKEN authenticates");
    const again = await get("/pypi/simple/", { "if-none-match": String(html.headers.etag) });
    assert.equal(again.statusCode, 304);
  });

  it("project: every file with #sha256 and PEP 714 core-metadata, never PEP 658's key", async () => {
    const html = await get(`/pypi/simple/${project}/`);
    assert.equal(html.statusCode, 200);
    assert.ok(
      html.body.includes(
        `<a href="../../files/${project}/${wheelName}#sha256=${sha}" data-requires-python="&gt;=3.7" ` +
          `data-core-metadata="sha256=${metadataSha}">${wheelName}</a>`,
      ),
      html.body,
    );
    assert.ok(!html.body.includes("dist-info-metadata"));
    const json = await get(`/pypi/simple/${project}/`, { accept: "application/vnd.pypi.simple.v1+json" });
    assert.deepEqual(json.json(), {
      meta: { "api-version": "1.4" },
      name: project,
      versions: ["1.1.2"],
      files: [
        {
          filename: wheelName,
          url: `../../files/${project}/${wheelName}`,
          hashes: { sha256: sha },
          "requires-python": ">=3.7",
          "core-metadata": { sha256: metadataSha },
          size: 5,
        },
      ],
    });
    assert.equal(json.headers["cache-control"], "no-cache");
  });

  it("redirects a name without the slash or not normalized to the canonical URL", async () => {
    for (const url of [
      `/pypi/simple/${project}`,
      "/pypi/simple/Protodepot_Python.demo-payments/",
      "/pypi/simple",
    ]) {
      const res = await get(url);
      assert.equal(res.statusCode, 301, url);
      assert.equal(
        res.headers.location,
        url === "/pypi/simple" ? "/pypi/simple/" : `/pypi/simple/${project}/`,
      );
    }
  });

  it("files: the wheel's bytes and its METADATA, immutable", async () => {
    const wheel = await get(`/pypi/files/${project}/${wheelName}`);
    assert.equal(wheel.statusCode, 200);
    assert.equal(wheel.body, "wheel");
    assert.equal(wheel.headers["content-length"], "5");
    assert.equal(wheel.headers["cache-control"], "public, max-age=31536000, immutable");
    // With a token the answer may be private: no shared cache keeps it.
    const mine = await get(`/pypi/files/${project}/${wheelName}`, basic());
    assert.equal(mine.headers["cache-control"], "private, max-age=31536000, immutable");
    const metadata = await get(`/pypi/files/${project}/${wheelName}.metadata`);
    assert.equal(metadata.body, record.extra.metadata);
    assert.notEqual(metadata.headers.etag, wheel.headers.etag);
    assert.equal(
      (await get(`/pypi/files/${project}/${wheelName}`, { "if-none-match": String(wheel.headers.etag) }))
        .statusCode,
      304,
    );
  });

  it("maps errors to plain text with their status, and asks the catalog nothing for names it cannot serve", async () => {
    const before = fake.calls.length;
    const wrongFile = await get(`/pypi/files/${project}/other-1.1.2-py3-none-any.whl`);
    assert.equal(wrongFile.statusCode, 404);
    assert.match(
      wrongFile.body,
      /its wheels are named protodepot_python_demo_payments-\{version\}-py3-none-any\.whl/,
    );
    const unnormalized = await get(`/pypi/files/Protodepot-python-demo-payments/${wheelName}`);
    assert.equal(unnormalized.statusCode, 404);
    assert.equal(fake.calls.length, before);
    const version = await get(
      `/pypi/files/${project}/protodepot_python_demo_payments-1.1.9-py3-none-any.whl`,
    );
    assert.equal(version.statusCode, 404);
    assert.equal(version.body, `project ${project} has no version 1.1.9\n`);
    const malformed = await get("/pypi/simple/requests/");
    assert.equal(malformed.statusCode, 400);
    assert.equal(malformed.headers["content-type"], "text/plain; charset=utf-8");
    assert.equal(malformed.headers["cache-control"], "no-store");
    assert.equal((await get("/pypi/simple/protodepot-python-demo-nothing/")).statusCode, 404);
  });

  it("a wrong token is 401 before any lookup; writes and unknown paths answer clearly", async () => {
    const before = fake.calls.length;
    const bad = await get("/pypi/simple/", { authorization: "Bearer pd_wrong" });
    assert.equal(bad.statusCode, 401);
    assert.equal(fake.calls.length, before);
    const upload = await app.inject({
      method: "POST",
      url: "/pypi/simple/",
      payload: "x",
      headers: { "content-type": "text/plain" },
    });
    assert.equal(upload.statusCode, 412);
    assert.match(upload.body, /this index is read-only/);
    // twine's upload: a multipart body no parser here reads, refused before anyone looks at it.
    const boundary = "----twine";
    const twine = await app.inject({
      method: "POST",
      url: "/pypi/",
      payload: `--${boundary}\r\ncontent-disposition: form-data; name=":action"\r\n\r\nfile_upload\r\n--${boundary}--\r\n`,
      headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
    });
    assert.equal(twine.statusCode, 412, twine.body);
    assert.match(twine.body, /packages are generated from pushed modules \(protodepot push\)/);
    const unknown = await get("/pypi/pypi/x/json");
    assert.equal(unknown.statusCode, 404);
    assert.match(unknown.body, /the simple index is at \/pypi\/simple\//);
  });
});

describe("PEP 691 negotiation", () => {
  it("picks the highest quality the client names, JSON on ties, HTML by default", () => {
    assert.equal(negotiate(pip23).kind, "json");
    assert.equal(negotiate(undefined).contentType, "text/html; charset=utf-8");
    assert.equal(negotiate("*/*").kind, "html");
    assert.equal(
      negotiate("application/vnd.pypi.simple.v1+html").contentType,
      "application/vnd.pypi.simple.v1+html",
    );
    assert.equal(negotiate("application/vnd.pypi.simple.v1+json;q=0.2, text/html").kind, "html");
    assert.equal(negotiate("application/vnd.pypi.simple.latest+json").kind, "json");
    assert.equal(negotiate("application/vnd.pypi.simple.v1+json;q=0, text/html;q=0.5").kind, "html");
    assert.equal(negotiate("image/png").kind, "html", "nothing we serve: the default, not a 406");
  });
});
