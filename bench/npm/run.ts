// bench/npm: packument and tarball requests/s at 64 connections, protodepot vs Verdaccio 6 in the same run.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import autocannon from "autocannon";
import { cliOk } from "../../test/e2e/support/cli.js";
import { adminToken, makeDataDir, repoRoot, startTestServer } from "../../test/e2e/support/server.js";
import { freePort } from "../nginx.js";
import { knob, smoke } from "../support.js";

const exec = promisify(execFile);
const connections = knob("BENCH_CONNECTIONS", 64, 8);
const seconds = knob("BENCH_SECONDS", 10, 0.5);
const name = "@protodepot/protodepot_es_demo_payments";
const bare = "protodepot_es_demo_payments";
const workDir = join(repoRoot, "bench/.work");
const verdaccioBin = join(workDir, "node_modules/verdaccio/bin/verdaccio");

/** Verdaccio 6 from npm into bench/.work (git-ignored), once. */
async function installVerdaccio(): Promise<void> {
  if (existsSync(verdaccioBin)) return;
  await mkdir(workDir, { recursive: true });
  // verdaccio-audit asks for `node-fetch@cjs`, a dist-tag some registry mirrors do not carry; pin what it names.
  await writeFile(
    join(workDir, "package.json"),
    `${JSON.stringify({ private: true, dependencies: { verdaccio: "^6" }, overrides: { "node-fetch": "2.7.0" } }, null, 2)}\n`,
  );
  process.stdout.write("installing verdaccio@6 into bench/.work…\n");
  await exec("npm", ["install", "--prefix", workDir, "--no-audit", "--no-fund", "verdaccio@6"], {
    maxBuffer: 64 << 20,
  });
}

interface Packument {
  versions: Record<string, { dist: { tarball: string; integrity: string; shasum: string } }>;
  "dist-tags": Record<string, string>;
  time?: Record<string, string>;
}

/** Verdaccio's own storage layout, seeded with protodepot's packument and the very same tarball bytes. */
async function seedVerdaccio(
  storage: string,
  doc: Packument,
  tarball: Uint8Array,
  version: string,
): Promise<void> {
  const dir = join(storage, name);
  await mkdir(dir, { recursive: true });
  const file = `${bare}-${version}.tgz`;
  await writeFile(join(dir, file), tarball);
  const dist = doc.versions[version]?.dist;
  const stored = {
    name,
    versions: doc.versions,
    "dist-tags": doc["dist-tags"],
    time: doc.time ?? {},
    _distfiles: {},
    _attachments: { [file]: { shasum: dist?.shasum, version } },
    _uplinks: {},
    _rev: "1-0000000000000001",
    readme: "",
  };
  await writeFile(join(dir, "package.json"), JSON.stringify(stored, null, 2));
}

async function startVerdaccio(dir: string, port: number): Promise<ChildProcess> {
  const config = join(dir, "config.yaml");
  await writeFile(
    config,
    [
      `storage: ${join(dir, "storage")}`,
      "auth:",
      "  htpasswd:",
      `    file: ${join(dir, "htpasswd")}`,
      "    max_users: -1",
      "uplinks: {}",
      "packages:",
      "  '@*/*':",
      "    access: $all",
      "  '**':",
      "    access: $all",
      "web:",
      "  enable: false",
      "log: { type: stdout, format: json, level: error }",
      "",
    ].join("\n"),
  );
  const child = spawn(process.execPath, [verdaccioBin, "--config", config, "--listen", `127.0.0.1:${port}`], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/-/ping`)).ok) return child;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill("SIGKILL");
  throw new Error(`verdaccio did not start:\n${out}`);
}

async function load(url: string): Promise<{ rps: number; non2xx: number; errors: number }> {
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    headers: { accept: "application/json" },
  });
  return { rps: result.requests.average, non2xx: result.non2xx, errors: result.errors };
}

await installVerdaccio();
const data = await makeDataDir("protodepot-bench-npm-");
const verdaccioDir = join(workDir, "verdaccio");
await rm(verdaccioDir, { recursive: true, force: true });
await mkdir(verdaccioDir, { recursive: true });
const server = await startTestServer({ dataDir: data.dir, orgs: ["demo"] });
let verdaccio: ChildProcess | undefined;
try {
  const env = {
    PROTODEPOT_REMOTE: server.url,
    PROTODEPOT_TOKEN: adminToken,
    XDG_CONFIG_HOME: join(data.dir, "config"),
  };
  await cliOk(["push", join(repoRoot, "examples/money")], env);
  await cliOk(["push", join(repoRoot, "examples/payments")], env);

  // The first packument generates; everything measured after it is the steady state both servers are in.
  const ours = {
    packument: `${server.url}/npm/${name.replace("/", "%2f")}`,
    tarball: "",
  };
  const doc = (await (await fetch(ours.packument)).json()) as Packument;
  const version = doc["dist-tags"].latest ?? "";
  ours.tarball = doc.versions[version]?.dist.tarball ?? "";
  const tarball = new Uint8Array(await (await fetch(ours.tarball)).arrayBuffer());

  const port = await freePort();
  await seedVerdaccio(join(verdaccioDir, "storage"), doc, tarball, version);
  verdaccio = await startVerdaccio(verdaccioDir, port);
  const theirs = {
    packument: `http://127.0.0.1:${port}/${name.replace("/", "%2f")}`,
    tarball: `http://127.0.0.1:${port}/${name}/-/${bare}-${version}.tgz`,
  };
  const same = new Uint8Array(await (await fetch(theirs.tarball)).arrayBuffer());
  if (Buffer.compare(Buffer.from(same), Buffer.from(tarball)) !== 0)
    throw new Error("verdaccio serves other tarball bytes");
  const theirDoc = (await (await fetch(theirs.packument)).json()) as Packument;
  if (!theirDoc.versions[version]) throw new Error("verdaccio does not list the seeded version");
  const packumentBytes = (await readFile(join(verdaccioDir, "storage", name, "package.json"))).length;

  process.stdout.write(
    `${connections} connections, ${seconds} s each; tarball ${tarball.length} B, packument ${JSON.stringify(doc).length} B (verdaccio stores ${packumentBytes} B)\n`,
  );
  const rows: [string, string, string][] = [
    ["packument", ours.packument, theirs.packument],
    ["tarball", ours.tarball, theirs.tarball],
  ];
  const ratios: number[] = [];
  for (const [what, a, b] of rows) {
    // A warm-up of each, not counted (JIT, sqlite page cache, fs cache); the smoke run (numbers unread) skips it.
    if (!smoke) await load(a);
    const p = await load(a);
    if (!smoke) await load(b);
    const v = await load(b);
    const ratio = p.rps / v.rps;
    ratios.push(ratio);
    process.stdout.write(
      `${what.padEnd(10)} protodepot ${p.rps.toFixed(0).padStart(7)} req/s (non-2xx ${p.non2xx}, errors ${p.errors})   verdaccio ${v.rps.toFixed(0).padStart(7)} req/s (non-2xx ${v.non2xx}, errors ${v.errors})   ratio ${ratio.toFixed(2)}\n`,
    );
    if (p.non2xx + p.errors + v.non2xx + v.errors > 0) process.exitCode = 1;
  }
  const goal = ratios.every((r) => r >= 2);
  process.stdout.write(`goal (≥ 2× on both): ${goal ? "met" : "not met"}\n`);
} finally {
  verdaccio?.kill("SIGTERM");
  await server.stop();
  await data.remove();
}
