import assert from "node:assert/strict";
import { createHash } from "node:crypto";
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
import { createCatalog } from "./catalog.js";
import { mavenTimestamp } from "./metadata.js";
import { parseMavenPath } from "./request.js";
import { mavenRegistry } from "./routes.js";

const commits = demoCommits((seq) => `2024-01-0${seq}T10:20:30.000Z`);
const labels: Label[] = [{ moduleId: "m1", name: "main", commitId: commits[1]?.id ?? "", updatedAt: "" }];
const jarBytes = Buffer.from("PK-jar-bytes");
const sums = (b: string | Buffer) => ({
  sha1: createHash("sha1").update(b).digest("hex"),
  md5: createHash("md5").update(b).digest("hex"),
});
const pom = "<project>money</project>\n";

/**
 * An in-memory generation service over demo/money under protodepot/java (3 commits, main at the second) and a
 * private acme/secret only the user `alice` may read; records what it generated.
 */
function fakeGeneration() {
  return createFakeGeneration({
    templateName: "java",
    flavour: "maven",
    commits,
    check(p, t, m) {
      if (t.owner !== "protodepot" || t.name !== "java") throw missing(`template ${t.owner}/${t.name}`);
      const secret = m.owner === "acme" && m.name === "secret";
      if (secret && p.user?.name === "alice") return;
      if (m.owner !== "demo" || m.name !== "money") throw missing(`module ${m.owner}/${m.name}`);
    },
    artifact: () => ({
      size: jarBytes.length,
      extra: {
        ...sums(jarBytes),
        pom,
        pomSha1: sums(pom).sha1,
        pomMd5: sums(pom).md5,
        dependencies: JSON.stringify([
          { groupId: "com.google.protobuf", artifactId: "protobuf-java", version: "3.21.12" },
        ]),
      },
    }),
    bytes: jarBytes,
  });
}

const modules = publicModules(labels);

const auth = {
  async authenticate(header: string | undefined) {
    if (header === undefined) return {};
    if (header === `Basic ${Buffer.from("x:alice-token").toString("base64")}`)
      return { user: { id: "u1", name: "alice" } };
    throw new RegistryError(Code.Unauthenticated, "unknown token");
  },
} as unknown as AuthService;

const base = "/maven/protodepot/gen/protodepot_java_demo_money";
const alice = { authorization: `Basic ${Buffer.from("x:alice-token").toString("base64")}` };

describe("maven paths", () => {
  const group = "protodepot.gen";
  it("name the metadata, the pom and the jar of a version, each with .sha1 and .md5", () => {
    assert.deepEqual(
      parseMavenPath("protodepot/gen/protodepot_java_demo_money/maven-metadata.xml.sha1", group),
      {
        endpoint: "metadata",
        artifactId: "protodepot_java_demo_money",
        parts: {
          templateOwner: "protodepot",
          templateName: "java",
          moduleOwner: "demo",
          moduleName: "money",
        },
        checksum: "sha1",
      },
    );
    const jar = parseMavenPath(
      "protodepot/gen/protodepot_java_demo_money/1.2.3/protodepot_java_demo_money-1.2.3.jar",
      group,
    );
    assert.equal(jar.endpoint, "jar");
    assert.deepEqual(jar.endpoint === "jar" && jar.version, { templateVersion: 2, commitSeq: 3 });
    const pomMd5 = parseMavenPath(
      "protodepot/gen/protodepot_java_demo_money/1.2.3/protodepot_java_demo_money-1.2.3.pom.md5",
      group,
    );
    assert.equal(pomMd5.endpoint, "pom");
    assert.equal(pomMd5.checksum, "md5");
  });

  it("are NotFound outside the group and for files never served, InvalidArgument when malformed inside it", () => {
    const code = (path: string) => {
      try {
        parseMavenPath(path, group);
        return "ok";
      } catch (err) {
        return (err as RegistryError).code;
      }
    };
    for (const path of [
      "com/google/protobuf/protobuf-java/3.21.12/protobuf-java-3.21.12.pom",
      "protodepot/maven-metadata.xml",
      "protodepot/gen/maven-metadata.xml",
      "protodepot/gen/protodepot_java_demo_money/1.1.1/protodepot_java_demo_money-1.1.1-javadoc.jar",
      "protodepot/gen/protodepot_java_demo_money/1.1.1/protodepot_java_demo_money-1.1.1.jar.sha256",
      "protodepot/gen/protodepot_java_demo_money/1.1.1/maven-metadata.xml",
      "protodepot/gen/protodepot_java_demo_money/index.html",
    ]) {
      assert.equal(code(path), Code.NotFound, path);
    }
    for (const path of [
      "protodepot/gen/demo_money/maven-metadata.xml",
      "protodepot/gen/Protodepot_java_demo_money/maven-metadata.xml",
      "protodepot/gen/protodepot_java_demo_money/v1.1.1/protodepot_java_demo_money-v1.1.1.jar",
      "protodepot/gen/protodepot_java_demo_money/1.01.1/protodepot_java_demo_money-1.01.1.jar",
      "protodepot/gen/protodepot_java_demo_money/1.1.1-SNAPSHOT/protodepot_java_demo_money-1.1.1-SNAPSHOT.jar",
      "protodepot/gen//protodepot_java_demo_money/maven-metadata.xml",
      "protodepot/gen/../gen/x/maven-metadata.xml",
      `protodepot/gen/${"a".repeat(1100)}`,
    ]) {
      assert.equal(code(path), Code.InvalidArgument, path);
    }
  });
});

describe("maven routes", () => {
  let app: FastifyInstance;
  let fake: ReturnType<typeof fakeGeneration>;

  before(async () => {
    fake = fakeGeneration();
    app = Fastify();
    registerRegistry(
      app,
      auth,
      mavenRegistry(
        createCatalog({ generation: fake.service, modules, groupId: "protodepot.gen", cacheTtlMs: 0 }),
        { groupId: "protodepot.gen" },
      ),
    );
    await app.ready();
  });
  after(() => app.close());

  it("lists generated versions in maven-metadata.xml, the default label's head as latest and release", async () => {
    const res = await app.inject({ url: `${base}/maven-metadata.xml` });
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers["content-type"]), /^text\/xml/);
    assert.equal(res.headers["cache-control"], "no-cache");
    // The head (commit 2) is generated before the listing; older ones are warmed in the background.
    assert.ok(fake.generated.includes(commits[1]?.id ?? ""));
    assert.match(res.body, /<latest>1\.1\.2<\/latest>\n {4}<release>1\.1\.2<\/release>/);
    assert.match(res.body, /<version>1\.1\.2<\/version>/);
    assert.match(
      res.body,
      /<groupId>protodepot\.gen<\/groupId>\n {2}<artifactId>protodepot_java_demo_money<\/artifactId>/,
    );
    await new Promise((r) => setTimeout(r, 20));
    const later = await app.inject({ url: `${base}/maven-metadata.xml` });
    assert.match(
      later.body,
      /<versions>\n {6}<version>1\.1\.1<\/version>\n {6}<version>1\.1\.2<\/version>\n {6}<version>1\.1\.3<\/version>\n {4}<\/versions>/,
    );
    assert.match(later.body, /<lastUpdated>20240103102030<\/lastUpdated>/);
    const sha1 = await app.inject({ url: `${base}/maven-metadata.xml.sha1` });
    assert.equal(sha1.body, sums(later.body).sha1);
    const md5 = await app.inject({ url: `${base}/maven-metadata.xml.md5` });
    assert.equal(md5.body, sums(later.body).md5);
    const again = await app.inject({
      url: `${base}/maven-metadata.xml`,
      headers: { "if-none-match": String(later.headers.etag) },
    });
    assert.equal(again.statusCode, 304);
  });

  it("serves a version's pom and jar with their checksums, immutable", async () => {
    const jar = await app.inject({ url: `${base}/1.1.3/protodepot_java_demo_money-1.1.3.jar` });
    assert.equal(jar.statusCode, 200, jar.body);
    assert.deepEqual(jar.rawPayload, jarBytes);
    assert.equal(jar.headers["content-type"], "application/java-archive");
    assert.equal(jar.headers["content-length"], String(jarBytes.length));
    assert.equal(jar.headers["cache-control"], "public, max-age=31536000, immutable");
    const withToken = await app.inject({
      url: `${base}/1.1.3/protodepot_java_demo_money-1.1.3.jar`,
      headers: alice,
    });
    assert.equal(withToken.headers["cache-control"], "private, max-age=31536000, immutable");
    for (const c of ["sha1", "md5"] as const) {
      const sum = await app.inject({ url: `${base}/1.1.3/protodepot_java_demo_money-1.1.3.jar.${c}` });
      assert.equal(sum.body, sums(jarBytes)[c]);
      const pomSum = await app.inject({ url: `${base}/1.1.3/protodepot_java_demo_money-1.1.3.pom.${c}` });
      assert.equal(pomSum.body, sums(pom)[c]);
    }
    const p = await app.inject({ url: `${base}/1.1.3/protodepot_java_demo_money-1.1.3.pom` });
    assert.equal(p.body, pom);
    const head = await app.inject({
      method: "HEAD",
      url: `${base}/1.1.3/protodepot_java_demo_money-1.1.3.jar`,
    });
    assert.equal(head.statusCode, 200);
    assert.equal(head.body, "");
  });

  it("challenges an anonymous caller for what may be private, 404s an authenticated one, 404s foreign groups", async () => {
    const anonymous = await app.inject({
      url: "/maven/protodepot/gen/protodepot_java_acme_secret/maven-metadata.xml",
    });
    assert.equal(anonymous.statusCode, 401);
    assert.equal(anonymous.headers["www-authenticate"], 'Basic realm="protodepot"');
    assert.match(anonymous.body, /module acme\/secret does not exist \(or it is private: send a token/);
    // A missing artifact gets the very same answer: the challenge tells nothing.
    const absent = await app.inject({
      url: "/maven/protodepot/gen/protodepot_java_acme_nothing/maven-metadata.xml",
    });
    assert.equal(absent.statusCode, 401);
    assert.equal(absent.body.replace("nothing", "secret"), anonymous.body);

    const withToken = await app.inject({
      url: "/maven/protodepot/gen/protodepot_java_acme_secret/maven-metadata.xml",
      headers: alice,
    });
    assert.equal(withToken.statusCode, 200, withToken.body);
    const unknownVersion = await app.inject({
      url: `${base}/1.1.9/protodepot_java_demo_money-1.1.9.jar`,
      headers: alice,
    });
    assert.equal(unknownVersion.statusCode, 404);
    assert.match(
      unknownVersion.body,
      /^artifact protodepot\.gen:protodepot_java_demo_money has no version 1\.1\.9: module demo\/money commit with sequence 9 does not exist/,
    );
    assert.equal(unknownVersion.headers["cache-control"], "no-store");

    const foreign = await app.inject({
      url: "/maven/com/google/protobuf/protobuf-java/3.21.12/protobuf-java-3.21.12.pom",
    });
    assert.equal(foreign.statusCode, 404);
    assert.match(
      foreign.body,
      /this repository serves protodepot\.gen:\{templateOwner\}_\{templateName\}_\{moduleOwner\}_\{moduleName\}/,
    );
    const javadoc = await app.inject({ url: `${base}/1.1.3/protodepot_java_demo_money-1.1.3-javadoc.jar` });
    assert.equal(javadoc.statusCode, 404);
  });

  it("400s malformed names and versions, 401s a wrong token, refuses deploys", async () => {
    const badName = await app.inject({ url: "/maven/protodepot/gen/demo_money/maven-metadata.xml" });
    assert.equal(badName.statusCode, 400);
    assert.match(
      badName.body,
      /invalid artifactId "demo_money": expected \{templateOwner\}_\{templateName\}_\{moduleOwner\}_\{moduleName\}/,
    );
    const badVersion = await app.inject({ url: `${base}/latest/protodepot_java_demo_money-latest.jar` });
    assert.equal(badVersion.statusCode, 400);
    assert.match(badVersion.body, /invalid version "latest" of protodepot\.gen:protodepot_java_demo_money/);
    const wrong = await app.inject({
      url: `${base}/maven-metadata.xml`,
      headers: { authorization: "Bearer wrong" },
    });
    assert.equal(wrong.statusCode, 401);
    assert.equal(wrong.headers["www-authenticate"], 'Basic realm="protodepot"');
    const put = await app.inject({
      method: "PUT",
      url: `${base}/1.1.4/protodepot_java_demo_money-1.1.4.jar`,
      payload: "x",
    });
    assert.equal(put.statusCode, 412);
    assert.match(put.body, /PUT is not supported: this Maven repository is read-only/);
  });

  it("formats lastUpdated as Maven does", () => {
    assert.equal(mavenTimestamp("2024-01-02T03:04:05.678Z"), "20240102030405");
  });
});
