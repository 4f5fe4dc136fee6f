// The real gem (RubyGems 3.3) and bundle (Bundler 2.3) install generated gems from /gems/, offline: the dependency
// module's gem comes along, google-protobuf is Debian's, Ruby round-trips a message holding the dependency's type;
// private gems need a token; a wiped cache regenerates the same .gem bytes, so a frozen Bundler install still works.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { wipeArtifacts } from "./support/cache.js";
import { cliOk } from "./support/cli.js";
import { createRubyHome, gemMissing } from "./support/gem.js";
import { copyModule } from "./support/modules.js";
import { seedPackageWorld } from "./support/package-world.js";
import { makeDataDir, repoRoot, startTestServer, type TestServer } from "./support/server.js";

const payments = "protodepot_ruby_demo_payments";
const money = "protodepot_ruby_demo_money";
const ledger = "protodepot_ruby_acme_ledger";

const roundTrip = `
require "demo/payments/v1/payments_pb"
money = Demo::Money::V1::Money.new(currency_code: "EUR", units: 12, nanos: 500000000)
p = Demo::Payments::V1::Payment.new(id: "p-1", amount: money, status: :STATUS_SETTLED, memo: "rent",
  created_at: Google::Protobuf::Timestamp.new(seconds: 1704164645))
data = Demo::Payments::V1::Payment.encode(p)
back = Demo::Payments::V1::Payment.decode(data)
raise "round trip differs" unless back == p
puts [data.bytesize, back.amount.class, back.amount.currency_code, back.amount.units, back.memo].join(" ")
`;
const roundTripOut = "36 Demo::Money::V1::Money EUR 12 rent";

/** Why protodepot/ruby-grpc cannot be tested here: Debian's grpc_ruby_plugin and grpc gem (.ci/apt/ruby.txt). */
function grpcRubyMissing(): string | undefined {
  const missing: string[] = [];
  if (!existsSync("/usr/bin/grpc_ruby_plugin")) missing.push("protobuf-compiler-grpc");
  if (spawnSync("ruby", ["-e", 'gem "grpc"']).status !== 0) missing.push("ruby-grpc");
  if (missing.length === 0) return undefined;
  const reason = `apt-get install ${missing.join(" ")} (.ci/apt/ruby.txt)`;
  if (process.env.CI === "true") throw new Error(reason);
  return reason;
}

describe("RubyGems source with the real gem and bundle", { skip: await gemMissing() }, () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;
  let work: string;
  let env: Record<string, string>;
  let port: string;
  let readerToken: string;

  const source = (token?: string) => {
    const u = new URL(`${server.url}/gems/`);
    if (token) u.username = token;
    return u.toString();
  };
  const info = async (name: string) => {
    const res = await fetch(`${server.url}/gems/info/${name}`);
    assert.equal(res.status, 200, `/info/${name}`);
    return res.text();
  };
  const gemfile = async (dir: string, gem: string) => {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "Gemfile"), `source "${server.url}/gems/"\ngem "${gem}"\n`);
  };

  before(async () => {
    data = await makeDataDir();
    work = await mkdtemp(join(tmpdir(), "protodepot-gems-"));
    server = await startTestServer({ dataDir: data.dir, orgs: ["demo", "acme"] });
    port = new URL(server.url).port;
    ({ env, readerToken } = await seedPackageWorld(server.url, work));
  });
  after(async () => {
    await server?.stop();
    await data?.remove();
    await rm(work, { recursive: true, force: true });
  });

  it("gem install brings the dependency module's gem, and Ruby round-trips a message holding its type", async () => {
    const home = await createRubyHome(join(work, "gem1"));
    const out = await home.run("gem", [
      "install",
      "--clear-sources",
      "--source",
      source(),
      "--no-document",
      payments,
    ]);
    assert.match(out, new RegExp(`Successfully installed ${money}-1\\.1\\.1`));
    assert.match(out, new RegExp(`Successfully installed ${payments}-1\\.1\\.1`));
    assert.equal((await home.run("ruby", ["-e", roundTrip])).trim(), roundTripOut);
    const spec = await home.run("gem", ["spec", payments, "dependencies"]);
    assert.match(spec, /name: google-protobuf/);
    assert.match(spec, new RegExp(`name: ${money}`));
  });

  it("bundle install resolves the same gems from the compact index, google-protobuf from Debian", async () => {
    const home = await createRubyHome(join(work, "bundle1"));
    const app = join(home.dir, "app");
    await gemfile(app, payments);
    const out = await home.run("bundle", ["install"], { cwd: app });
    assert.match(out, new RegExp(`Installing ${money} 1\\.1\\.1`));
    assert.match(out, new RegExp(`Installing ${payments} 1\\.1\\.1`));
    assert.match(out, /Using google-protobuf 3\.21/);
    assert.equal(
      (await home.run("bundle", ["exec", "ruby", "-e", roundTrip], { cwd: app })).trim(),
      roundTripOut,
    );
    const lock = await readFile(join(app, "Gemfile.lock"), "utf8");
    assert.match(
      lock,
      new RegExp(
        `${payments} \\(1\\.1\\.1\\)\\n\\s+google-protobuf \\(~> 3\\.21\\)\\n\\s+${money} \\(= 1\\.1\\.1\\)`,
      ),
    );
  });

  it("serves the compact index Bundler expects: MD5 ETags, checksums of the .gem, infos' MD5 in /versions", async () => {
    const versions = await fetch(`${server.url}/gems/versions`);
    const body = await versions.text();
    assert.equal(versions.headers.get("etag"), `"${createHash("md5").update(body).digest("hex")}"`);
    assert.equal(
      versions.headers.get("repr-digest"),
      `sha-256=:${createHash("sha256").update(body).digest("base64")}:`,
    );
    assert.ok(body.startsWith("created_at: 2000-01-01T00:00:00Z\n---\n"), body);
    const moneyInfo = await info(money);
    assert.ok(body.includes(`${money} 1.1.1 ${createHash("md5").update(moneyInfo).digest("hex")}\n`), body);
    assert.ok(!body.includes(ledger), "the anonymous index does not list private gems");
    const paymentsInfo = await info(payments);
    const m =
      /^1\.1\.1 google-protobuf:~> 3\.21,protodepot_ruby_demo_money:= 1\.1\.1\|checksum:([0-9a-f]{64}),ruby:>= 2\.5$/m.exec(
        paymentsInfo,
      );
    assert.ok(m, paymentsInfo);
    const gem = new Uint8Array(
      await (await fetch(`${server.url}/gems/gems/${payments}-1.1.1.gem`)).arrayBuffer(),
    );
    assert.equal(createHash("sha256").update(gem).digest("hex"), m[1]);
    assert.equal(await info("google-protobuf"), "---\n", "someone else's gem: an empty info, not a 404");
    const again = await fetch(`${server.url}/gems/versions`, {
      headers: { "if-none-match": `"${createHash("md5").update(body).digest("hex")}"` },
    });
    assert.equal(again.status, 304);
    const names = await (await fetch(`${server.url}/gems/names`)).text();
    assert.ok(names.startsWith("---\n") && names.includes(`${payments}\n`), names);
    const head = await fetch(`${server.url}/gems/`, { method: "HEAD" });
    assert.equal(head.status, 200, "gem install probes the source itself and needs a 2xx");
  });

  it("a private gem installs with the token as gem and Bundler send it, and is missing (404) without", async () => {
    for (const path of [
      `/gems/info/${ledger}`,
      `/gems/gems/${ledger}-1.1.1.gem`,
      `/gems/quick/Marshal.4.8/${ledger}-1.1.1.gemspec.rz`,
    ]) {
      const res = await fetch(`${server.url}${path}`);
      assert.equal(res.status, 404, path);
    }
    const home = await createRubyHome(join(work, "gem2"));
    const refused = await home
      .run("gem", ["install", "--clear-sources", "--source", source(), "--no-document", ledger])
      .then(
        () => "",
        (err: Error) => err.message,
      );
    assert.match(refused, /Could not find a valid gem|404/);
    const out = await home.run("gem", [
      "install",
      "--clear-sources",
      "--source",
      source(readerToken),
      "--no-document",
      ledger,
    ]);
    assert.match(out, new RegExp(`Successfully installed ${ledger}-1\\.1\\.1`));
    const script =
      'require "acme/ledger/v1/ledger_pb"; e = Acme::Ledger::V1::Entry.new(account: "a", amount: Demo::Money::V1::Money.new(units: 3)); puts Acme::Ledger::V1::Entry.decode(Acme::Ledger::V1::Entry.encode(e)).amount.units';
    assert.equal((await home.run("ruby", ["-e", script])).trim(), "3");

    // Bundler: the token as the value of the host's key (BUNDLE_127__0__0__1), sent as Basic TOKEN:.
    const bundler = await createRubyHome(join(work, "bundle2"));
    const app = join(bundler.dir, "app");
    await gemfile(app, ledger);
    const denied = await bundler.run("bundle", ["install"], { cwd: app }).then(
      () => "",
      (err: Error) => err.message,
    );
    assert.match(denied, /Could not find gem 'protodepot_ruby_acme_ledger'/);
    const installed = await bundler.run("bundle", ["install"], {
      cwd: app,
      env: { BUNDLE_127__0__0__1: readerToken },
    });
    assert.match(installed, new RegExp(`Installing ${ledger} 1\\.1\\.1`));
    const wrong = await fetch(`${server.url}/gems/versions`, {
      headers: { authorization: `Basic ${Buffer.from("pd_wrong:").toString("base64")}` },
    });
    assert.equal(wrong.status, 401, "a wrong token is refused, not read as anonymous");
    const listed = await fetch(`${server.url}/gems/versions`, {
      headers: { authorization: `Basic ${Buffer.from(`${readerToken}:`).toString("base64")}` },
    });
    assert.ok((await listed.text()).includes(`${ledger} 1.1.1 `));
  });

  it("a wiped cache gives the same .gem: /info's checksum is unchanged and a frozen bundle install succeeds", async () => {
    const home = await createRubyHome(join(work, "bundle3"));
    const app = join(home.dir, "app");
    await gemfile(app, payments);
    await home.run("bundle", ["install"], { cwd: app });
    const before = { payments: await info(payments), money: await info(money) };
    const quick = Buffer.from(
      await (await fetch(`${server.url}/gems/quick/Marshal.4.8/${payments}-1.1.1.gemspec.rz`)).arrayBuffer(),
    );
    await server.stop();
    const wiped = await wipeArtifacts(data.dir);
    assert.ok(wiped >= 2, `expected the gems to be wiped, wiped ${wiped}`);
    server = await startTestServer({ dataDir: data.dir, orgs: ["demo", "acme"], args: ["--port", port] });
    assert.deepEqual({ payments: await info(payments), money: await info(money) }, before);
    const quickAgain = Buffer.from(
      await (await fetch(`${server.url}/gems/quick/Marshal.4.8/${payments}-1.1.1.gemspec.rz`)).arrayBuffer(),
    );
    assert.deepEqual(quickAgain, quick, "gem install caches the quick spec forever: it must not change");
    // A new GEM_HOME downloads both .gem files again, and Bundler checks each against /info's checksum.
    const fresh = await createRubyHome(join(work, "bundle4"));
    const out = await fresh.run("bundle", ["install"], { cwd: app, env: { BUNDLE_FROZEN: "true" } });
    assert.match(out, new RegExp(`Installing ${payments} 1\\.1\\.1`));
    assert.equal(
      (await fresh.run("bundle", ["exec", "ruby", "-e", roundTrip], { cwd: app })).trim(),
      roundTripOut,
    );
  });
  it("bundle update follows a new push through Bundler's cached compact index", async () => {
    const home = await createRubyHome(join(work, "bundle5"));
    const app = join(home.dir, "app");
    await gemfile(app, payments);
    assert.match(
      await home.run("bundle", ["install"], { cwd: app }),
      new RegExp(`Installing ${payments} 1\\.1\\.1`),
    );
    const dir = await copyModule(
      join(repoRoot, "examples/payments"),
      join(work, "payments2"),
      "demo/payments",
    );
    const proto = join(dir, "demo/payments/v1/payments.proto");
    await writeFile(
      proto,
      `${await readFile(proto, "utf8")}\nmessage Refund {\n  string payment_id = 1;\n}\n`,
    );
    await cliOk(["push", dir], env);
    const out = await home.run("bundle", ["update", payments], { cwd: app });
    assert.match(out, new RegExp(`Installing ${payments} 1\\.1\\.2 \\(was 1\\.1\\.1\\)`));
    assert.match(out, new RegExp(`Using ${money} 1\\.1\\.1`));
    const script =
      'require "demo/payments/v1/payments_pb"; puts Demo::Payments::V1::Refund.new(payment_id: "p-1").payment_id';
    assert.equal((await home.run("bundle", ["exec", "ruby", "-e", script], { cwd: app })).trim(), "p-1");
  });
  it("protodepot/ruby-grpc's gem holds the gRPC service stubs beside the messages, and they load on Debian's grpc", {
    skip: grpcRubyMissing(),
  }, async () => {
    const home = await createRubyHome(join(work, "bundle-grpc"));
    const app = join(home.dir, "app");
    const gem = "protodepot_ruby-grpc_demo_payments";
    await gemfile(app, gem);
    const out = await home.run("bundle", ["install"], { cwd: app });
    assert.match(out, /Installing protodepot_ruby-grpc_demo_money 1\.1\.1/);
    assert.match(out, /Using grpc 1\./);
    const script = `
require "demo/payments/v1/payments_services_pb"
Dir.chdir(Gem.loaded_specs["${gem}"].full_gem_path) { puts Dir.glob("**/*").select { |f| File.file?(f) }.sort.join(",") }
puts Demo::Payments::V1::PaymentService::Service.rpc_descs.keys.join(",")
puts Demo::Payments::V1::PaymentService::Stub.ancestors.include?(GRPC::ClientStub)
`;
    const lines = (await home.run("bundle", ["exec", "ruby", "-e", script], { cwd: app })).trim().split("\n");
    assert.deepEqual(lines, [
      "lib/demo/payments/v1/payments_pb.rb,lib/demo/payments/v1/payments_services_pb.rb",
      "CreatePayment",
      "true",
    ]);
  });
});
