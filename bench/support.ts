// Helpers shared by the benchmarks: timing, the median of repeated runs, a server to measure.
import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  adminToken,
  cliPath,
  makeDataDir,
  repoRoot,
  startTestServer,
  type TestServer,
} from "../test/e2e/support/server.js";
/**
 * BENCH_SMOKE=1 runs every benchmark with tiny rounds, so CI proves each still runs and prints its ratios; the
 * numbers it prints then mean nothing.
 */
export const smoke = process.env.BENCH_SMOKE === "1";

/** A benchmark's knob: its environment variable when set, else `full`, or `tiny` under BENCH_SMOKE=1. */
export function knob(name: string, full: number, tiny: number): number {
  const set = process.env[name];
  return set !== undefined && set !== "" ? Number(set) : smoke ? tiny : full;
}

export const median = (xs: readonly number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/** Milliseconds `fn` took. */
export async function time(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

export interface BenchServer {
  server: TestServer;
  /** A scratch directory for the benchmark, removed by close(). */
  work: string;
  /** Environment for CLI runs: this server, the admin token, a private CLI config. */
  env: NodeJS.ProcessEnv;
  close(): Promise<void>;
}

/** A real server on a temp data dir, as the end-to-end tests start it; `serverEnv` configures it (e.g. drivers). */
export async function startBenchServer(
  name: string,
  serverEnv: Record<string, string> = {},
): Promise<BenchServer> {
  const work = await mkdtemp(join(tmpdir(), `protodepot-bench-${name}-`));
  const data = await makeDataDir(`protodepot-bench-${name}-data-`);
  const server = await startTestServer({ dataDir: data.dir, orgs: ["demo"], env: serverEnv });
  const env = {
    ...process.env,
    PROTODEPOT_REMOTE: server.url,
    PROTODEPOT_TOKEN: adminToken,
    XDG_CONFIG_HOME: work,
  };
  return {
    server,
    work,
    env,
    async close() {
      await server.stop();
      await data.remove();
      await rm(work, { recursive: true, force: true });
    },
  };
}

export interface PushedRound {
  /** The changed payments.proto, to copy into a local workspace for the side-by-side run. */
  proto: string;
  commit: string;
  seq: number;
}

/**
 * Pushes examples/payments with a comment naming the round, so each round is a new commit and the registry's
 * first request for it is a true cold generation.
 */
export async function pushPaymentsRound(bench: BenchServer, round: number): Promise<PushedRound> {
  const dir = join(bench.work, `payments-${round}`);
  await cp(join(repoRoot, "examples/payments"), dir, { recursive: true });
  const proto = join(dir, "demo/payments/v1/payments.proto");
  await writeFile(proto, `${await readFile(proto, "utf8")}\n// round ${round}\n`);
  const { stdout } = await promisify(execFile)(process.execPath, [cliPath, "push", dir], { env: bench.env });
  const m = /commit ([0-9a-f]{32}) seq (\d+)/.exec(stdout);
  if (!m?.[1] || !m[2]) throw new Error(`push printed no commit: ${stdout}`);
  return { proto, commit: m[1], seq: Number(m[2]) };
}
