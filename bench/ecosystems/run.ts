// bench/ecosystems: RubyGems, Cargo and CMake for demo/payments. Cold (the first request after a push, which
// generates) and cached (the second) time to a built .gem, .crate and CMake archive; then `bundle install`,
// `cargo build` and a CMake configure + build against protodepot and against nginx serving the very same files in
// the same run, so the registry's share of the consumer's wall time shows as a ratio. Clients are set up offline as
// the end-to-end tests set them up (test/e2e/support/gem.ts, cargo.ts; cmake.test.ts).
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { buildRustProst, cargoMissing, createCargoProject } from "../../test/e2e/support/cargo.js";
import { cliOk } from "../../test/e2e/support/cli.js";
import { createRubyHome, gemMissing } from "../../test/e2e/support/gem.js";
import { adminToken, repoRoot } from "../../test/e2e/support/server.js";
import { type Nginx, startNginx } from "../nginx.js";
import {
  type BenchServer,
  knob,
  median,
  pushPaymentsRound,
  smoke,
  startBenchServer,
  time,
} from "../support.js";

const exec = promisify(execFile);
const rounds = knob("BENCH_ROUNDS", 5, 1);
const consumerRounds = knob("BENCH_CONSUMER_ROUNDS", 3, 1);

const gem = (module: string) => `protodepot_ruby_demo_${module}`;
const crate = (module: string) => `protodepot_rust_demo_${module}`;
/** Every built-in template's first version on a fresh data dir: versions are 1.1.{commit sequence}. */
const version = (seq: number) => `1.1.${seq}`;

interface Ecosystem {
  name: string;
  /** The built artifact of one module version. */
  path(module: string, seq: number): string;
}

const cmakePath = (module: string, seq: number) =>
  `/cmake/protodepot/cpp/demo/${module}/${version(seq)}.tar.gz`;

const ecosystems: Ecosystem[] = [
  { name: ".gem", path: (m, seq) => `/gems/gems/${gem(m)}-${version(seq)}.gem` },
  { name: ".crate", path: (m, seq) => `/cargo/crates/${crate(m)}/${version(seq)}/download` },
  { name: "CMake archive", path: cmakePath },
];

async function get(base: string, path: string): Promise<Uint8Array> {
  const res = await fetch(base + path);
  if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status} ${(await res.text()).slice(0, 500)}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Cold and cached milliseconds per ecosystem: each round pushes a new commit for each, so each cold is a true one. */
async function coldAndCached(bench: BenchServer): Promise<Map<string, { cold: number[]; cached: number[] }>> {
  const times = new Map(ecosystems.map((e) => [e.name, { cold: [] as number[], cached: [] as number[] }]));
  for (let round = 1; round <= rounds; round++) {
    for (const e of ecosystems) {
      const { seq } = await pushPaymentsRound(bench, round * ecosystems.length + ecosystems.indexOf(e));
      const t = times.get(e.name);
      t?.cold.push(await time(() => get(bench.server.url, e.path("payments", seq))));
      t?.cached.push(await time(() => get(bench.server.url, e.path("payments", seq))));
    }
  }
  return times;
}

/** Copies what each consumer reads from protodepot into `root`, at the same paths, for nginx to serve. */
async function mirror(
  base: string,
  root: string,
  nginxUrl: string,
  seqs: { money: number; payments: number },
) {
  const save = async (path: string, bytes?: Uint8Array) => {
    const file = join(root, path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, bytes ?? (await get(base, path)));
  };
  // RubyGems compact index: /versions, each listed gem's /info, and every listed version's .gem.
  const versions = new TextDecoder().decode(await get(base, "/gems/versions"));
  await save("/gems/versions", new TextEncoder().encode(versions));
  for (const line of versions.split("\n").slice(2)) {
    const [name, list] = line.split(" ");
    if (!name || !list) continue;
    await save(`/gems/info/${name}`);
    for (const v of list.split(",")) await save(`/gems/gems/${name}-${v}.gem`);
  }
  // Cargo sparse index: config.json pointing downloads at nginx, both index files, the crates they list.
  const config = JSON.parse(new TextDecoder().decode(await get(base, "/cargo/index/config.json"))) as {
    dl: string;
  };
  config.dl = config.dl.replace(base, nginxUrl);
  await save("/cargo/index/config.json", new TextEncoder().encode(JSON.stringify(config)));
  for (const m of ["money", "payments"]) {
    const name = crate(m);
    const indexPath = `/cargo/index/${name.slice(0, 2)}/${name.slice(2, 4)}/${name}`;
    const lines = new TextDecoder().decode(await get(base, indexPath));
    await save(indexPath, new TextEncoder().encode(lines));
    for (const l of lines.split("\n").filter(Boolean)) {
      const { vers } = JSON.parse(l) as { vers: string };
      await save(`/cargo/crates/${name}/${vers}/download`);
    }
  }
  // CMake: payments' archive with the .sha256 the consumer pins, and the money archive its CMakeLists.txt fetches.
  for (const [m, seq] of Object.entries(seqs)) await save(cmakePath(m, seq));
  await save(`${cmakePath("payments", seqs.payments)}.sha256`);
  // nginx's workers run as nobody; mkdtemp made the root private.
  await exec("chmod", ["-R", "a+rX", root]);
}

const rubyScript = `require "demo/payments/v1/payments_pb"\nputs Demo::Payments::V1::Payment.new(id: "p-1").id\n`;
const rustMain = `use ${crate("payments")}::demo::payments::v1::Payment;\nfn main() { println!("{}", Payment { id: "p-1".into(), ..Default::default() }.id); }\n`;
const cppMain = `#include <iostream>\n#include "demo/payments/v1/payments.pb.h"\nint main() { demo::payments::v1::Payment p; p.set_id("p-1"); std::cout << p.id() << std::endl; }\n`;

interface Consumer {
  name: string;
  /** One fresh client (its own caches) installing or building payments@seq from `base`; resolves when it ran. */
  run(base: string, dir: string, seq: number): Promise<void>;
}

function consumers(targetDir: string): Consumer[] {
  return [
    {
      name: "bundle install",
      async run(base, dir, seq) {
        const home = await createRubyHome(dir);
        const app = join(dir, "app");
        await mkdir(app, { recursive: true });
        await writeFile(
          join(app, "Gemfile"),
          `source "${base}/gems/"\ngem "${gem("payments")}", "= ${version(seq)}"\n`,
        );
        await home.run("bundle", ["install", "--quiet"], { cwd: app });
        const out = await home.run("bundle", ["exec", "ruby", "-e", rubyScript], { cwd: app });
        if (out.trim() !== "p-1") throw new Error(`bundle exec printed ${out}`);
      },
    },
    {
      name: "cargo build",
      async run(base, dir, seq) {
        const project = await createCargoProject({
          dir,
          index: `sparse+${base}/cargo/index/`,
          dependencies: { [crate("payments")]: `{ version = "=${version(seq)}", registry = "protodepot" }` },
          main: rustMain,
          targetDir,
        });
        await project.cargo(["build", "--quiet"]);
      },
    },
    {
      name: "cmake configure + build",
      async run(base, dir, seq) {
        const pkg = "protodepot_cpp_demo_payments";
        const path = cmakePath("payments", seq);
        const sha256 = (await (await fetch(`${base}${path}.sha256`)).text()).trim();
        await mkdir(dir, { recursive: true });
        await writeFile(
          join(dir, "CMakeLists.txt"),
          "cmake_minimum_required(VERSION 3.14...3.31)\nproject(consumer LANGUAGES CXX)\ninclude(FetchContent)\n" +
            `FetchContent_Declare(${pkg}\n  URL "\${PROTODEPOT_URL}${path}"\n  URL_HASH SHA256=${sha256}\n)\n` +
            `FetchContent_MakeAvailable(${pkg})\nadd_executable(app main.cc)\n` +
            "target_link_libraries(app PRIVATE protodepot::cpp_demo_payments)\n",
        );
        await writeFile(join(dir, "main.cc"), cppMain);
        const build = join(dir, "build");
        await exec("cmake", ["-S", dir, "-B", build, `-DPROTODEPOT_URL=${base}`], { maxBuffer: 16 << 20 });
        await exec("cmake", ["--build", build, "-j", "2"], { maxBuffer: 16 << 20 });
      },
    },
  ];
}

const ratio = (a: number, b: number) => (a / b).toFixed(2);

const missing = (await gemMissing()) ?? cargoMissing();
if (missing) throw new Error(`bench/ecosystems needs the e2e tests' clients: ${missing}`);
await buildRustProst(); // the server registers protodepot/rust when the plugin is built
const bench = await startBenchServer("ecosystems");
const root = await mkdtemp(join(tmpdir(), "protodepot-bench-ecosystems-root-"));
// nginx starts before the mirror is filled: config.json names its URL. Bundler reads an ETag as the body's MD5.
await writeFile(join(root, "healthz"), "ok\n");
await exec("chmod", ["a+rx", root]);
let nginx: Nginx | undefined;
try {
  nginx = await startNginx(root, 1, { etag: false });
  const cliEnv = {
    PROTODEPOT_REMOTE: bench.server.url,
    PROTODEPOT_TOKEN: adminToken,
    XDG_CONFIG_HOME: bench.work,
  };
  const pushed = await cliOk(["push", join(repoRoot, "examples/money")], cliEnv);
  const moneySeq = Number(/seq (\d+)/.exec(pushed.stdout)?.[1]);
  const first = await pushPaymentsRound(bench, 0);
  // Money's artifacts first (CMake pins their hashes), so each cold below generates payments only.
  for (const e of ecosystems) await get(bench.server.url, e.path("money", moneySeq));
  for (const e of ecosystems) await get(bench.server.url, e.path("payments", first.seq));

  const times = await coldAndCached(bench);
  console.log(
    `\ndemo/payments, median of ${rounds} round${rounds > 1 ? "s" : ""}, ms (a new commit per cold):`,
  );
  for (const [name, t] of times) {
    const cold = median(t.cold);
    const cached = median(t.cached);
    console.log(
      `  ${name.padEnd(14)} cold ${cold.toFixed(0).padStart(6)}   cached ${cached.toFixed(1).padStart(7)}   cold/cached ${ratio(cold, cached)}`,
    );
  }

  const seq = first.seq;
  const targetDir = join(bench.work, "cargo-target");
  const list = consumers(targetDir);
  // Warm-up against each server, not counted: Debian's prost compiles once into the shared target dir, and
  // both sources' builds of our crates are cached, so every counted build compiles the same things. The smoke run
  // (numbers not judged) skips it: it only has to show the benchmark still runs.
  if (!smoke) for (const c of list) await c.run(bench.server.url, join(bench.work, `warm-${c.name}`), seq);
  await mirror(bench.server.url, root, nginx.url, { money: moneySeq, payments: seq });
  if (!smoke) for (const c of list) await c.run(nginx.url, join(bench.work, `warm-nginx-${c.name}`), seq);

  console.log(
    `\nconsumers of payments@${version(seq)}, fresh client caches, median of ${consumerRounds}, ms (ratio to nginx; registry's share = 1 - 1/ratio):`,
  );
  for (const c of list) {
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let r = 0; r < consumerRounds; r++) {
      // Both orders in turn, so a drift in the machine's load favours neither.
      const sides = [
        { base: bench.server.url, into: ours, tag: "protodepot" },
        { base: nginx.url, into: theirs, tag: "nginx" },
      ];
      if (r % 2 === 1) sides.reverse();
      for (const s of sides)
        s.into.push(await time(() => c.run(s.base, join(bench.work, `${c.name}-${s.tag}-${r}`), seq)));
    }
    const p = median(ours);
    const n = median(theirs);
    console.log(
      `  ${c.name.padEnd(24)} protodepot ${p.toFixed(0).padStart(6)}   nginx ${n.toFixed(0).padStart(6)}   ratio ${ratio(p, n)}   share ${((1 - n / p) * 100).toFixed(1)} %`,
    );
  }
} finally {
  await nginx?.stop();
  await bench.close();
  await rm(root, { recursive: true, force: true });
}
