// Push policies: breaking changes and lint findings checked at push by the real buf over stored images.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { cliOk, runCli } from "./support/cli.js";
import { adminToken, makeDataDir, startTestServer, type TestServer } from "./support/server.js";

const v1 =
  'syntax = "proto3";\npackage pol.ledger.v1;\n\nmessage Entry {\n  string id = 1;\n  int64 amount = 2;\n}\n';
// Renaming a field keeps the wire format and breaks JSON.
const renamed = v1.replace("int64 amount = 2;", "int64 cents = 2;");
const lowerCase = `${v1}\nmessage bad_name {}\n`;

describe("push policies", () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;
  let work: string;
  let admin: Record<string, string>;
  let alice: Record<string, string>;

  const moduleDir = async (name: string, proto: string) => {
    const dir = join(work, name);
    await mkdir(join(dir, "pol/ledger/v1"), { recursive: true });
    await writeFile(join(dir, "buf.yaml"), "version: v1\nname: buf.build/pol/ledger\n");
    await writeFile(join(dir, "pol/ledger/v1/ledger.proto"), proto);
    return dir;
  };
  const seqs = async () =>
    (await cliOk(["commit", "list", "pol/ledger"], admin)).stdout
      .trim()
      .split("\n")
      .slice(1)
      .map((l) => Number(l.split(/\s+/)[0]));

  before(async () => {
    data = await makeDataDir();
    work = await mkdtemp(join(tmpdir(), "protodepot-policies-"));
    server = await startTestServer({ dataDir: data.dir });
    admin = {
      PROTODEPOT_REMOTE: server.url,
      PROTODEPOT_TOKEN: adminToken,
      XDG_CONFIG_HOME: join(work, "config"),
    };
    await cliOk(["org", "create", "pol"], admin);
    await cliOk(["user", "create", "alice"], admin);
    const token = (await cliOk(["token", "create", "--user", "alice"], admin)).stdout.trim();
    await cliOk(["org", "member", "add", "pol", "alice", "--role", "writer"], admin);
    alice = { ...admin, PROTODEPOT_TOKEN: token };
    await cliOk(["push", await moduleDir("v1", v1)], alice);
  });
  after(async () => {
    await server.stop();
    await data.remove();
    await rm(work, { recursive: true, force: true });
  });

  it("rejects breaking changes against the label's head with file:line:col lines, and stores nothing", async () => {
    const set = await cliOk(
      ["module", "update", "pol/ledger", "--breaking", "reject", "--breaking-category", "WIRE_JSON"],
      admin,
    );
    assert.match(set.stdout, /push policy: breaking reject \(WIRE_JSON\), lint off \(STANDARD\)/);
    const refused = await runCli(["push", await moduleDir("renamed", renamed)], alice);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /push refused: \d breaking change\(s\) in category WIRE_JSON against main \(seq 1\)/,
    );
    assert.match(refused.stderr, /^pol\/ledger\/v1\/ledger\.proto:6:\d+: Field "2" .*"amount" to "cents"/m);
    assert.deepEqual(await seqs(), [1]);
    // The wire format alone does not mind a rename.
    await cliOk(["module", "update", "pol/ledger", "--breaking-category", "WIRE"], admin);
    const wire = await cliOk(["push", await moduleDir("renamed-wire", renamed)], alice);
    assert.match(wire.stdout, /seq 2/);
    assert.deepEqual(await seqs(), [2, 1]);
  });

  it("lets an owner, not a writer, override one push with --allow-breaking, and says what it overrode", async () => {
    await cliOk(["module", "update", "pol/ledger", "--breaking-category", "WIRE_JSON"], admin);
    const back = await moduleDir("back", v1);
    const writer = await runCli(["push", back, "--allow-breaking"], alice);
    assert.equal(writer.code, 1);
    assert.match(writer.stderr, /may not override the breaking-change policy/);
    const owner = await cliOk(["push", back, "--allow-breaking"], admin);
    assert.match(owner.stdout, /pushed pol\/ledger commit [0-9a-f]{32} seq 1|unchanged.*seq 1/);
    assert.match(owner.stderr, /warning: breaking: pol\/ledger\/v1\/ledger\.proto:6:\d+: /);
  });

  it("keeps a writer from switching the policy off to push what it refuses", async () => {
    const before = await seqs();
    const off = await runCli(["module", "update", "pol/ledger", "--breaking", "off"], alice);
    assert.equal(off.code, 1);
    assert.match(off.stderr, /may not change push policies of pol: that needs an owner of pol/);
    const refused = await runCli(["push", await moduleDir("renamed-again", renamed)], alice);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /push refused: \d breaking change\(s\) in category WIRE_JSON/);
    assert.deepEqual(await seqs(), before);
  });

  it("warns and stores with breaking: warn", async () => {
    await cliOk(["module", "update", "pol/ledger", "--breaking", "warn"], admin);
    const res = await cliOk(
      ["push", await moduleDir("warned", renamed.replace("cents", "amount_cents"))],
      alice,
    );
    assert.match(res.stdout, /pushed pol\/ledger commit [0-9a-f]{32} seq 3/);
    assert.match(res.stderr, /warning: breaking: pol\/ledger\/v1\/ledger\.proto:6:\d+: Field "2" /);
  });

  it("rejects lint findings by category, with a per-label override", async () => {
    await cliOk(
      [
        "module",
        "update",
        "pol/ledger",
        "--breaking",
        "off",
        "--lint",
        "reject",
        "--lint-category",
        "STANDARD",
      ],
      admin,
    );
    const dir = await moduleDir("lint", lowerCase);
    const refused = await runCli(["push", dir], alice);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /push refused: 1 lint finding\(s\) in STANDARD/);
    assert.match(
      refused.stderr,
      /^pol\/ledger\/v1\/ledger\.proto:9:9: Message name "bad_name" should be PascalCase.*\(MESSAGE_PASCAL_CASE\)$/m,
    );
    const label = await cliOk(
      ["module", "update", "pol/ledger", "--label", "scratch", "--lint", "warn"],
      admin,
    );
    assert.match(
      label.stdout,
      /push policy of label scratch: breaking off \(WIRE_JSON\), lint warn \(STANDARD\)/,
    );
    const scratch = await cliOk(["push", dir, "--label", "scratch"], alice);
    assert.match(scratch.stdout, /pushed pol\/ledger commit [0-9a-f]{32} seq 4 label scratch/);
    assert.match(scratch.stderr, /warning: lint: pol\/ledger\/v1\/ledger\.proto:9:9: /);
    const bad = await runCli(["module", "update", "pol/ledger", "--lint", "loud"], admin);
    assert.match(bad.stderr, /invalid lint policy "loud": use off, warn or reject/);
  });
});
