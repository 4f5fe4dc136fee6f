// The real `mvn` resolves generated artifacts from /maven/ (protobuf-java and Maven's plugins
// from Debian's repository on disk), compiles and runs code using a generated message of a module with a
// dependency; a private artifact needs the token in settings.xml; a cache wipe regenerates the same jar bytes.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { wipeArtifacts } from "./support/cache.js";
import { cliOk } from "./support/cli.js";
import { createMavenProject, mavenMissing } from "./support/maven.js";
import { adminToken, makeDataDir, startTestServer, type TestServer } from "./support/server.js";

const payments = "protodepot_java_demo_payments";
const money = "protodepot_java_demo_money";
const ledger = "protodepot_java_acme_ledger";

// A Payment with a Money from the dependency artifact and a Timestamp from protobuf-java, through the wire and back.
const paymentsMain = `package example;

import com.google.protobuf.Timestamp;
import demo.money.v1.MoneyOuterClass.Money;
import demo.payments.v1.Payments.Payment;
import demo.payments.v1.Payments.Status;

public class Main {
  public static void main(String[] args) throws Exception {
    Payment payment = Payment.newBuilder()
        .setId("p-1")
        .setAmount(Money.newBuilder().setCurrencyCode("EUR").setUnits(12).setNanos(500000000))
        .setCreatedAt(Timestamp.newBuilder().setSeconds(1704164645))
        .setStatus(Status.STATUS_SETTLED)
        .build();
    byte[] bytes = payment.toByteArray();
    Payment back = Payment.parseFrom(bytes);
    System.out.println(bytes.length + " " + back.getAmount().getCurrencyCode() + " " + back.getAmount().getUnits()
        + " " + back.getCreatedAt().getSeconds() + " " + back.getStatus() + " " + back.equals(payment));
  }
}
`;
const paymentsOutput = "30 EUR 12 1704164645 STATUS_SETTLED true";

const ledgerProto = `syntax = "proto3";

package acme.ledger.v1;

option java_multiple_files = true;
option java_package = "com.acme.ledger.v1";

import "demo/money/v1/money.proto";

message Entry {
  string account = 1;
  demo.money.v1.Money amount = 2;
}
`;
const ledgerMain = `package example;

import com.acme.ledger.v1.Entry;
import demo.money.v1.MoneyOuterClass.Money;

public class Main {
  public static void main(String[] args) throws Exception {
    Entry entry = Entry.newBuilder().setAccount("cash").setAmount(Money.newBuilder().setCurrencyCode("CHF").setUnits(3)).build();
    System.out.println(Entry.parseFrom(entry.toByteArray()).getAmount().getCurrencyCode());
  }
}
`;

const missing = mavenMissing();

describe("Maven repository with the real mvn", { skip: !process.env.CI && missing }, () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;
  let work: string;
  let port: string;
  const artifactUrl = (artifact: string, version: string, ext: string) =>
    `${server.url}/maven/protodepot/gen/${artifact}/${version}/${artifact}-${version}.${ext}`;

  before(async () => {
    if (missing) throw new Error(`CI must run the Maven tests: ${missing} (.ci/apt/maven.txt)`);
    data = await makeDataDir();
    work = await mkdtemp(join(tmpdir(), "protodepot-maven-"));
    // The demo seeds demo/money and demo/payments (which depends on it).
    server = await startTestServer({ dataDir: data.dir, orgs: ["acme"], args: ["--demo"] });
    port = new URL(server.url).port;
    const dir = join(work, "ledger");
    await mkdir(join(dir, "acme/ledger/v1"), { recursive: true });
    await writeFile(
      join(dir, "buf.yaml"),
      "version: v1\nname: buf.build/acme/ledger\ndeps:\n  - buf.build/demo/money\n",
    );
    await writeFile(join(dir, "acme/ledger/v1/ledger.proto"), ledgerProto);
    await cliOk(["push", dir, "--visibility", "private"], {
      PROTODEPOT_REMOTE: server.url,
      PROTODEPOT_TOKEN: adminToken,
      XDG_CONFIG_HOME: join(work, "config"),
    });
  });
  after(async () => {
    await server?.stop();
    await data?.remove();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const consumer = (name: string, dependency: string, main: string, token?: string) =>
    createMavenProject({
      dir: join(work, name),
      repositoryUrl: `${server.url}/maven/`,
      dependencies: [dependency],
      sources: { "example/Main.java": main },
      ...(token ? { token } : {}),
    });

  it("compiles and runs a consumer of a generated artifact; the dependency module's artifact and protobuf-java come along", async () => {
    // A version range: Maven reads maven-metadata.xml, which lists what is generated (the head at least).
    const project = await consumer("payments", `protodepot.gen:${payments}:[1.1,2.0)`, paymentsMain);
    assert.equal((await project.compileAndRun("example.Main")).trim(), paymentsOutput);
    const classpath = await readFile(join(project.dir, "classpath.txt"), "utf8");
    const local = join(project.dir, "local-repository");
    assert.ok(
      classpath.includes(`${local}/protodepot/gen/${payments}/1.1.1/${payments}-1.1.1.jar`),
      classpath,
    );
    assert.ok(classpath.includes(`${local}/protodepot/gen/${money}/1.1.1/${money}-1.1.1.jar`), classpath);
    assert.ok(classpath.includes(`${local}/com/google/protobuf/protobuf-java/3.21.12/`), classpath);

    const pom = await (await fetch(artifactUrl(payments, "1.1.1", "pom"))).text();
    assert.match(
      pom,
      /<groupId>com\.google\.protobuf<\/groupId>\n\s*<artifactId>protobuf-java<\/artifactId>\n\s*<version>3\.21\.12<\/version>/,
    );
    assert.match(pom, new RegExp(`<artifactId>${money}</artifactId>\\n\\s*<version>1\\.1\\.1</version>`));
    // Maven verified every checksum it downloaded from us (checksumPolicy fail): the .sha1 matches the jar.
    const jar = new Uint8Array(await (await fetch(artifactUrl(payments, "1.1.1", "jar"))).arrayBuffer());
    const sha1 = await (await fetch(artifactUrl(payments, "1.1.1", "jar.sha1"))).text();
    assert.equal(sha1, createHash("sha1").update(jar).digest("hex"));
  });

  it("serves a private artifact with the token of a settings.xml <server>, challenges Maven without one", async () => {
    const anonymous = await consumer("ledger-anonymous", `protodepot.gen:${ledger}:1.1.1`, ledgerMain);
    const refused = await anonymous.tryMvn(["compile"]);
    assert.notEqual(refused.code, 0);
    assert.match(
      refused.output,
      /authentication failed for http:\/\/127\.0\.0\.1:\d+\/maven\/protodepot\/gen\/protodepot_java_acme_ledger\/1\.1\.1\/protodepot_java_acme_ledger-1\.1\.1\.pom, status: 401 Unauthorized/,
    );
    const direct = await fetch(artifactUrl(ledger, "1.1.1", "pom"));
    assert.equal(direct.status, 401);
    assert.equal(direct.headers.get("www-authenticate"), 'Basic realm="protodepot"');

    const project = await consumer("ledger", `protodepot.gen:${ledger}:1.1.1`, ledgerMain, adminToken);
    assert.equal((await project.compileAndRun("example.Main")).trim(), "CHF");
  });

  it("answers unknown artifacts and versions with a readable 404 to a caller with a token, malformed names with 400", async () => {
    const auth = { authorization: `Bearer ${adminToken}` };
    const unknown = await fetch(
      `${server.url}/maven/protodepot/gen/protodepot_java_demo_nothing/maven-metadata.xml`,
      {
        headers: auth,
      },
    );
    assert.equal(unknown.status, 404);
    assert.match(await unknown.text(), /module demo\/nothing does not exist/);
    const version = await fetch(artifactUrl(payments, "1.1.9", "jar"), { headers: auth });
    assert.equal(version.status, 404);
    assert.match(
      await version.text(),
      /has no version 1\.1\.9: module demo\/payments has no commit with sequence 9/,
    );
    const malformed = await fetch(`${server.url}/maven/protodepot/gen/not_four/maven-metadata.xml`);
    assert.equal(malformed.status, 400);
    assert.match(await malformed.text(), /invalid artifactId "not_four"/);
  });

  it("regenerates the same jar bytes after the server's cache is wiped (with one plugin slot): the .sha1 is unchanged", async () => {
    const before = new Map<string, string>();
    for (const artifact of [payments, money]) {
      for (const ext of ["jar.sha1", "pom.sha1"]) {
        before.set(`${artifact}.${ext}`, await (await fetch(artifactUrl(artifact, "1.1.1", ext))).text());
      }
    }
    await server.stop();
    const wiped = await wipeArtifacts(data.dir);
    assert.ok(wiped >= 2, `expected the maven artifacts to be wiped, wiped ${wiped}`);
    // One plugin slot: payments' jar needs money's first, which must not wait for the slot payments would hold.
    server = await startTestServer({
      dataDir: data.dir,
      orgs: ["acme"],
      args: ["--port", port],
      env: { PROTODEPOT_PLUGINS_CONCURRENCY: "1" },
    });
    // A fresh local repository: Maven downloads and checks everything again (checksumPolicy fail).
    const project = await consumer("payments-after-wipe", `protodepot.gen:${payments}:1.1.1`, paymentsMain);
    assert.equal((await project.compileAndRun("example.Main")).trim(), paymentsOutput);
    for (const artifact of [payments, money]) {
      for (const ext of ["jar.sha1", "pom.sha1"]) {
        const now = await (await fetch(artifactUrl(artifact, "1.1.1", ext))).text();
        assert.match(now, /^[0-9a-f]{40}$/);
        assert.equal(now, before.get(`${artifact}.${ext}`), `${artifact}.${ext}`);
      }
      const jar = await readFile(
        join(project.dir, "local-repository/protodepot/gen", artifact, "1.1.1", `${artifact}-1.1.1.jar`),
      );
      assert.equal(createHash("sha1").update(jar).digest("hex"), before.get(`${artifact}.jar.sha1`));
    }
  });
});
