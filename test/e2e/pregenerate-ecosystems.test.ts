// Pre-generation reaches the RubyGems, Cargo and CMake registries: after a push to a module subscribed to
// protodepot/ruby, protodepot/rust and protodepot/cpp, the first .gem, .crate and CMake archive downloads of the new
// version run no plugin (counted by the server's own metrics, never timed).
import assert from "node:assert/strict";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { buildRustProst, cargoMissing } from "./support/cargo.js";
import { cliOk } from "./support/cli.js";
import { pluginRuns } from "./support/metrics.js";
import { adminToken, makeDataDir, repoRoot, startTestServer, type TestServer } from "./support/server.js";

const downloads = (module: string, version: string) => [
  `/gems/gems/protodepot_ruby_demo_${module}-${version}.gem`,
  `/cargo/crates/protodepot_rust_demo_${module}/${version}/download`,
  `/cmake/protodepot/cpp/demo/${module}/${version}.tar.gz`,
];

async function waitFor(what: string, check: () => Promise<boolean>, ms = 120_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("pre-generation for RubyGems, Cargo and CMake", { skip: cargoMissing() }, () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;
  let work: string;
  let env: Record<string, string>;

  const get = async (path: string) => {
    const res = await fetch(`${server.url}${path}`);
    assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`);
    await res.arrayBuffer();
  };

  before(async () => {
    await buildRustProst(); // protodepot/rust is registered when our prost plugin is built
    data = await makeDataDir();
    work = await mkdtemp(join(tmpdir(), "protodepot-pregenerate-ecosystems-"));
    server = await startTestServer({ dataDir: data.dir, orgs: ["demo"] });
    env = {
      PROTODEPOT_REMOTE: server.url,
      PROTODEPOT_TOKEN: adminToken,
      XDG_CONFIG_HOME: join(work, "config"),
    };
    await cliOk(["push", join(repoRoot, "examples/money")], env);
    await cliOk(["push", join(repoRoot, "examples/payments")], env);
  });
  after(async () => {
    await server?.stop();
    await data?.remove();
    await rm(work, { recursive: true, force: true });
  });

  it("a push to a subscribed module leaves the first .gem, .crate and CMake archive of the new version cached", async () => {
    // demo/money's artifacts exist already (the CMake archive pins money's by its hash), so the push's background
    // work is exactly payments': an archive and a package per template.
    for (const path of downloads("money", "1.1.1")) await get(path);
    const update = await cliOk(
      [
        "module",
        "update",
        "demo/payments",
        "--pregenerate",
        "protodepot/ruby,protodepot/rust,protodepot/cpp",
      ],
      env,
    );
    assert.match(
      update.stdout,
      /pre-generates protodepot\/ruby, protodepot\/rust, protodepot\/cpp after each push/,
    );

    const dir = join(work, "payments-2");
    await cp(join(repoRoot, "examples/payments"), dir, { recursive: true });
    const proto = join(dir, "demo/payments/v1/payments.proto");
    await writeFile(proto, `${await readFile(proto, "utf8")}\n// a second commit\n`);
    const runsBefore = await pluginRuns(server);
    const pushed = await cliOk(["push", dir], env);
    assert.match(pushed.stdout, /seq 2\b/);
    await waitFor("six background plugin runs", async () => (await pluginRuns(server)) >= runsBefore + 6);
    const settled = await pluginRuns(server);
    assert.equal(settled, runsBefore + 6, "an archive and a package for each of the three templates");

    for (const path of downloads("payments", "1.1.2")) await get(path);
    assert.equal(await pluginRuns(server), settled, "the .gem, .crate and CMake archive came from the cache");
  });
});
