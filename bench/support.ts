// Helpers shared by the benchmarks: timing, the median of repeated runs, a server to measure.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { adminToken, makeDataDir, startTestServer, type TestServer } from "../test/e2e/support/server.js";
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

/** A real server on a temp data dir, as the end-to-end tests start it. */
export async function startBenchServer(name: string): Promise<BenchServer> {
  const work = await mkdtemp(join(tmpdir(), `protodepot-bench-${name}-`));
  const data = await makeDataDir(`protodepot-bench-${name}-data-`);
  const server = await startTestServer({ dataDir: data.dir });
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
