// The real cargo (offline: crates.io replaced by Debian's vendored crates) builds a consumer of a module's crate
// from /cargo/index/, the dependency module's crate comes along, and Rust round-trips a message; private crates
// need the token root and a token; a wiped cache regenerates the same .crate bytes, so Cargo.lock still holds.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { wipeArtifacts } from "./support/cache.js";
import { buildRustProst, cargoMissing, createCargoProject } from "./support/cargo.js";
import { seedPackageWorld } from "./support/package-world.js";
import { makeDataDir, startTestServer, type TestServer } from "./support/server.js";

const payments = "protodepot_rust_demo_payments";
const money = "protodepot_rust_demo_money";
const ledger = "protodepot_rust_acme_ledger";

/** Names Money only through Payment's field, so the money crate is reached as payments' dependency. */
const roundTrip = `use prost::Message;
use ${payments}::demo::payments::v1::{Payment, Status};

fn main() {
    let mut p = Payment { id: "p-1".into(), memo: Some("rent".into()), ..Default::default() };
    p.set_status(Status::Settled);
    let amount = p.amount.get_or_insert_with(Default::default);
    amount.currency_code = "EUR".into();
    amount.units = 12;
    amount.nanos = 500_000_000;
    p.created_at.get_or_insert_with(Default::default).seconds = 1_704_164_645;
    let data = p.encode_to_vec();
    let back = Payment::decode(data.as_slice()).unwrap();
    assert_eq!(back, p);
    let a = back.amount.unwrap();
    println!("{} {} {} {} {}", data.len(), a.currency_code, a.units, back.created_at.unwrap().seconds, back.memo.unwrap());
}
`;

const ledgerMain = `use prost::Message;
use ${ledger}::acme::ledger::v1::Entry;

fn main() {
    let mut e = Entry { account: "a".into(), ..Default::default() };
    e.amount.get_or_insert_with(Default::default).units = 3;
    println!("{}", Entry::decode(e.encode_to_vec().as_slice()).unwrap().amount.unwrap().units);
}
`;

const missing = cargoMissing();

describe("Cargo sparse registry with the real cargo", { skip: missing }, () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;
  let work: string;
  let port: string;
  let readerToken: string;
  let targetDir: string;

  const fetchIndex = (path: string, authorization?: string) =>
    fetch(`${server.url}${path}`, authorization ? { headers: { authorization } } : {});

  before(async () => {
    // The server registers protodepot/rust only when the plugin is built: build it first.
    await buildRustProst();
    data = await makeDataDir();
    work = await mkdtemp(join(tmpdir(), "protodepot-cargo-"));
    targetDir = join(work, "target");
    server = await startTestServer({ dataDir: data.dir, orgs: ["demo", "acme"] });
    port = new URL(server.url).port;
    ({ readerToken } = await seedPackageWorld(server.url, work));
  });
  after(async () => {
    await server?.stop();
    await data?.remove();
    await rm(work, { recursive: true, force: true });
  });

  const paymentsProject = (name: string) =>
    createCargoProject({
      dir: join(work, name),
      index: `sparse+${server.url}/cargo/index/`,
      dependencies: { [payments]: '{ version = "1.1", registry = "protodepot" }', prost: '"0.11"' },
      main: roundTrip,
      targetDir,
    });

  it("cargo builds a consumer of a module's crate; the dependency module's crate comes along; Rust round-trips a Payment", async () => {
    const project = await paymentsProject("consumer");
    await project.cargo(["build", "--quiet"]);
    const { stdout } = await project.cargo(["run", "--quiet"]);
    assert.equal(stdout.trim(), "36 EUR 12 1704164645 rent");
    const lock = await readFile(join(project.dir, "Cargo.lock"), "utf8");
    const source = `source = "sparse+${server.url}/cargo/index/"`;
    for (const crate of [payments, money]) {
      assert.ok(lock.includes(`name = "${crate}"\nversion = "1.1.1"\n${source}`), lock);
    }
    // Debian's prost, through the crates.io replacement.
    assert.match(
      lock,
      /name = "prost"\nversion = "0\.11\.\d+"\nsource = "registry\+https:\/\/github\.com\/rust-lang\/crates\.io-index"/,
    );
  });

  it("serves config.json, index lines with the .crate's sha256 and pinned dependencies, and the .crate itself", async () => {
    const config = await (await fetchIndex("/cargo/index/config.json")).json();
    assert.deepEqual(config, {
      dl: `${server.url}/cargo/crates/{crate}/{version}/download`,
      api: `${server.url}/cargo`,
    });
    const res = await fetchIndex(`/cargo/index/pr/ot/${payments}`);
    assert.equal(res.status, 200);
    const lines = (await res.text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 1);
    const line = lines[0] ?? {};
    assert.equal(line.name, payments);
    assert.equal(line.vers, "1.1.1");
    assert.deepEqual(
      (line.deps as { name: string; req: string; registry?: string }[]).map((d) => [
        d.name,
        d.req,
        d.registry,
      ]),
      [
        ["prost", "0.11", "https://github.com/rust-lang/crates.io-index"],
        ["prost-types", "0.11", "https://github.com/rust-lang/crates.io-index"],
        [money, "=1.1.1", undefined],
      ],
    );
    const crate = new Uint8Array(
      await (await fetchIndex(`/cargo/crates/${payments}/1.1.1/download`)).arrayBuffer(),
    );
    assert.equal(createHash("sha256").update(crate).digest("hex"), line.cksum);
    const etag = res.headers.get("etag") ?? "";
    assert.equal(
      (await fetch(`${server.url}/cargo/index/pr/ot/${payments}`, { headers: { "if-none-match": etag } }))
        .status,
      304,
    );
    for (const [path, status] of [
      [`/cargo/index/pr/ot/protodepot_rust_demo_nothing`, 404],
      ["/cargo/index/pr/os/prost", 404],
      [`/cargo/index/xx/yy/${payments}`, 404],
      [`/cargo/crates/${payments}/1.1.9/download`, 404],
      [`/cargo/crates/${payments}/2.0.0/download`, 404],
      ["/cargo/api/v1/crates", 404],
    ] as const) {
      const r = await fetchIndex(path);
      assert.equal(r.status, status, path);
      assert.ok(Array.isArray(((await r.json()) as { errors: unknown }).errors), path);
    }
    const publish = await fetch(`${server.url}/cargo/api/v1/crates/new`, { method: "PUT", body: "x" });
    assert.equal(publish.status, 412);
  });

  it("a private crate builds through the token root with CARGO_REGISTRIES_PROTODEPOT_TOKEN and fails without it", async () => {
    const hidden = `/cargo/index/pr/ot/${ledger}`;
    assert.equal((await fetchIndex(hidden)).status, 404, "anonymous callers see no private crate");
    // Cargo's bare token, accepted on /cargo/ routes.
    assert.equal((await fetchIndex(hidden, readerToken)).status, 200);
    assert.equal((await fetchIndex(hidden, "pd_wrong")).status, 401);
    const challenge = await fetchIndex("/cargo/token/index/config.json");
    assert.equal(challenge.status, 401);
    for (const spelling of ["/cargo/%74oken/index/config.json", `/cargo/%74oken/index/pr/ot/${ledger}`]) {
      assert.notEqual((await fetchIndex(spelling)).status, 200, spelling);
    }
    assert.deepEqual(await (await fetchIndex("/cargo/token/index/config.json", readerToken)).json(), {
      dl: `${server.url}/cargo/token/crates/{crate}/{version}/download`,
      api: `${server.url}/cargo/token`,
      "auth-required": true,
    });

    const project = await createCargoProject({
      dir: join(work, "private"),
      index: `sparse+${server.url}/cargo/token/index/`,
      dependencies: { [ledger]: '{ version = "1", registry = "protodepot" }', prost: '"0.11"' },
      main: ledgerMain,
      targetDir,
    });
    const refused = await project.cargo(["build", "--quiet"]).then(
      () => "",
      (err: { stderr: string }) => err.stderr,
    );
    assert.match(refused, /no token found for `protodepot`/);
    const publicRoot = await createCargoProject({
      dir: join(work, "private-anonymous"),
      index: `sparse+${server.url}/cargo/index/`,
      dependencies: { [ledger]: '{ version = "1", registry = "protodepot" }' },
      main: ledgerMain,
      targetDir,
    });
    const notFound = await publicRoot.cargo(["build", "--quiet"]).then(
      () => "",
      (err: { stderr: string }) => err.stderr,
    );
    assert.match(notFound, new RegExp(`no matching package named \`${ledger}\` found`));
    const token = { CARGO_REGISTRIES_PROTODEPOT_TOKEN: readerToken };
    await project.cargo(["build", "--quiet"], token);
    assert.equal((await project.cargo(["run", "--quiet"], token)).stdout.trim(), "3");
  });

  it("a wiped cache and a restart give the same .crate bytes: Cargo.lock's checksums hold for a fresh cargo", async () => {
    const indexBefore = await (await fetchIndex(`/cargo/index/pr/ot/${payments}`)).text();
    const lock = await readFile(join(work, "consumer", "Cargo.lock"), "utf8");
    await server.stop();
    const wiped = await wipeArtifacts(data.dir);
    assert.ok(wiped >= 2, `expected the crates to be wiped, wiped ${wiped}`);
    server = await startTestServer({ dataDir: data.dir, orgs: ["demo", "acme"], args: ["--port", port] });
    assert.equal(await (await fetchIndex(`/cargo/index/pr/ot/${payments}`)).text(), indexBefore);
    // A new project (fresh CARGO_HOME: nothing cached) with the old Cargo.lock: --locked refuses any change, and
    // cargo checks every download against the lock's checksum.
    const project = await paymentsProject("after-wipe");
    await writeFile(join(project.dir, "Cargo.lock"), lock);
    await project.cargo(["build", "--quiet", "--locked"]);
    assert.equal(
      (await project.cargo(["run", "--quiet", "--locked"])).stdout.trim(),
      "36 EUR 12 1704164645 rent",
    );
    assert.equal(await readFile(join(project.dir, "Cargo.lock"), "utf8"), lock);
  });
});
