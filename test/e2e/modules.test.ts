// Modules end to end: the real server driven by the real CLI, curl and tar.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { readModuleDir } from "../../src/workspace/module-dir.js";
import { cliOk, runCli } from "./support/cli.js";
import { adminToken, makeDataDir, repoRoot, startTestServer, type TestServer } from "./support/server.js";

const exec = promisify(execFile);
const examples = join(repoRoot, "examples");

describe("module registry end to end", () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;
  let work: string;
  let env: Record<string, string>;

  before(async () => {
    data = await makeDataDir();
    work = await mkdtemp(join(tmpdir(), "protodepot-work-"));
    server = await startTestServer({ dataDir: data.dir, orgs: ["demo", "acme"] });
    env = {
      PROTODEPOT_REMOTE: server.url,
      PROTODEPOT_TOKEN: adminToken,
      XDG_CONFIG_HOME: join(work, "config"),
    };
  });
  after(async () => {
    await server.stop();
    await data.remove();
    await rm(work, { recursive: true, force: true });
  });

  const commitSeqs = async (module: string) => {
    const res = await cliOk(["commit", "list", module], env);
    return res.stdout
      .trim()
      .split("\n")
      .slice(1)
      .map((line) => Number(line.split(/\s+/)[0]));
  };

  it("pushes the demo modules, dependency first", async () => {
    const money = await cliOk(["push", join(examples, "money")], env);
    assert.match(money.stdout, /^pushed demo\/money commit [0-9a-f]{32} seq 1 label main$/m);
    const payments = await cliOk(["push", join(examples, "payments")], env);
    assert.match(payments.stdout, /^pushed demo\/payments commit [0-9a-f]{32} seq 1 label main$/m);
    const modules = await cliOk(["module", "list"], env);
    assert.match(modules.stdout, /demo\/money/);
    assert.match(modules.stdout, /demo\/payments/);
  });

  it("makes a second commit for new content and none for identical content", async () => {
    const dir = join(work, "payments");
    await cp(join(examples, "payments"), dir, { recursive: true });
    const proto = join(dir, "demo/payments/v1/payments.proto");
    await writeFile(
      proto,
      `${await readFile(proto, "utf8")}\nmessage Refund {\n  string payment_id = 1;\n}\n`,
    );
    const second = await cliOk(["push", dir], env);
    assert.match(second.stdout, /^pushed demo\/payments commit [0-9a-f]{32} seq 2/m);
    const same = await cliOk(["push", dir], env);
    assert.match(same.stdout, /unchanged.* demo\/payments commit [0-9a-f]{32} seq 2/);
    assert.deepEqual(await commitSeqs("demo/payments"), [2, 1]);
    // The content of seq 1 onto a new label: the label points at seq 1, no seq 3 with seq 1's digest.
    const first = await cliOk(["push", join(examples, "payments"), "--label", "beta"], env);
    assert.match(first.stdout, /demo\/payments commit [0-9a-f]{32} seq 1 label beta/);
    assert.deepEqual(await commitSeqs("demo/payments"), [2, 1]);
    const labels = await cliOk(["label", "list", "demo/payments"], env);
    assert.match(labels.stdout, /^beta\s+1\b/m);
  });

  it("refuses a broken proto with file:line:col and makes no commit", async () => {
    const dir = join(work, "broken");
    await cp(join(examples, "payments"), dir, { recursive: true });
    const proto = join(dir, "demo/payments/v1/payments.proto");
    await writeFile(proto, `${await readFile(proto, "utf8")}\nmessage Broken {\n  string x = 1\n}\n`);
    const res = await runCli(["push", dir], env);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /demo\/payments\/v1\/payments\.proto:\d+:\d+: /);
    assert.deepEqual(await commitSeqs("demo/payments"), [2, 1]);
  });

  it("refuses an unknown dependency, naming it", async () => {
    const dir = join(work, "orphan");
    await cp(join(examples, "payments"), dir, { recursive: true });
    await writeFile(
      join(dir, "buf.yaml"),
      "version: v1\nname: buf.build/demo/orphan\ndeps:\n  - buf.build/demo/money\n  - buf.build/acme/nope\n",
    );
    const res = await runCli(["push", dir], env);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /acme\/nope/);
    assert.equal((await runCli(["commit", "list", "demo/orphan"], env)).code, 1);
  });

  const fetchArchive = async (ref: string) => {
    const out = join(work, `x-${Date.now()}-${Math.random()}`);
    await exec("mkdir", ["-p", out]);
    await exec("sh", [
      "-c",
      `curl -fsS "${server.url}/demo/money/archive/${ref}.tar.gz" | tar xz -C "${out}"`,
    ]);
    return readModuleDir(out);
  };

  it("serves archive/main.tar.gz with exactly the pushed files", async () => {
    const pushed = await readModuleDir(join(examples, "money"));
    const fetched = await fetchArchive("main");
    assert.deepEqual(
      fetched.map((f) => [f.path, Buffer.from(f.content).toString()]),
      pushed.map((f) => [f.path, Buffer.from(f.content).toString()]),
    );
  });

  it("finds everything again after a restart on the same data dir", async () => {
    const before = await cliOk(["commit", "list", "demo/payments"], env);
    const archive = await exec("sh", [
      "-c",
      `curl -fsS "${server.url}/demo/money/archive/main.tar.gz" | sha256sum`,
    ]);
    await server.stop();
    server = await startTestServer({ dataDir: data.dir, orgs: ["demo", "acme"] });
    env.PROTODEPOT_REMOTE = server.url;
    assert.equal((await cliOk(["commit", "list", "demo/payments"], env)).stdout, before.stdout);
    const again = await exec("sh", [
      "-c",
      `curl -fsS "${server.url}/demo/money/archive/main.tar.gz" | sha256sum`,
    ]);
    assert.equal(again.stdout, archive.stdout);
    const labels = await cliOk(["label", "list", "demo/payments"], env);
    assert.match(labels.stdout, /^main\s+2\s+[0-9a-f]{32}/m);
  });

  it("stores a login per remote and uses it when no flag or env names one", async () => {
    const home = { XDG_CONFIG_HOME: join(work, "login-config") };
    const bad = await runCli(["login", server.url, "--token", "pd_wrong"], home);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid token/);
    const good = await cliOk(["login", server.url, "--token", adminToken], home);
    assert.match(good.stdout, /logged in to http:\/\/127\.0\.0\.1:\d+ as admin/);
    const listed = await cliOk(["token", "create", "--note", "from stored login"], home);
    assert.match(listed.stdout, /^pd_/);
    const settings = await stat(join(work, "login-config/protodepot/config.json"));
    assert.equal(settings.mode & 0o777, 0o600);
  });

  it("creates and moves labels", async () => {
    const commits = (await cliOk(["commit", "list", "demo/payments"], env)).stdout.split("\n");
    const first = commits[2]?.split(/\s+/)[1] ?? "";
    await cliOk(["label", "create", "demo/payments", "stable", first], env);
    assert.match((await cliOk(["label", "list", "demo/payments"], env)).stdout, /^stable\s+1\s/m);
    await cliOk(["label", "move", "demo/payments", "stable", "main"], env);
    assert.match((await cliOk(["label", "list", "demo/payments"], env)).stdout, /^stable\s+2\s/m);
    const again = await runCli(["label", "create", "demo/payments", "stable", "main"], env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already has label "stable"; move it instead/);
  });
});
