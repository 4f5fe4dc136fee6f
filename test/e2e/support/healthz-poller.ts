// Polls a server's /healthz every 50 ms from a separate process (the test process is busy building and sending what
// it attacks with), until stopped: the answer times in ms, a failed or non-200 answer as Infinity (JSON null).
import { spawn } from "node:child_process";

const script = `
  const samples = [];
  let stop = false;
  process.stdin.on("end", () => (stop = true)).resume();
  (async () => {
    while (!stop) {
      const t = performance.now();
      const ok = await fetch(process.env.HEALTHZ_URL).then(
        async (res) => (await res.arrayBuffer(), res.status === 200),
        () => false,
      );
      samples.push(ok ? performance.now() - t : null);
      await new Promise((r) => setTimeout(r, 50));
    }
    process.stdout.write(JSON.stringify(samples));
  })();`;

export interface HealthzPoller {
  /** Stops polling; the answer times in ms, in order (Infinity for a failed answer). */
  stop(): Promise<number[]>;
}

export function pollHealthz(serverUrl: string): HealthzPoller {
  const child = spawn(process.execPath, ["-e", script], {
    env: { ...process.env, HEALTHZ_URL: `${serverUrl}/healthz` },
    stdio: ["pipe", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    async stop() {
      child.stdin.end();
      await exited;
      return (JSON.parse(out) as (number | null)[]).map((t) => t ?? Number.POSITIVE_INFINITY);
    },
  };
}
