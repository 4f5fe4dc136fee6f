// Polls a server's /healthz every 50 ms from a separate process (the test process is busy building and sending what
// it attacks with), until stopped: the answer times in ms, a failed or non-200 answer as Infinity.
import { spawn } from "node:child_process";

// One line per answer, as it comes: the test can wait until polling is under way before it attacks.
const script = `
  let stop = false;
  process.stdin.on("end", () => (stop = true)).resume();
  (async () => {
    while (!stop) {
      const t = performance.now();
      const ok = await fetch(process.env.HEALTHZ_URL).then(
        async (res) => (await res.arrayBuffer(), res.status === 200),
        () => false,
      );
      process.stdout.write((ok ? String(performance.now() - t) : "failed") + "\\n");
      await new Promise((r) => setTimeout(r, 50));
    }
  })();`;

export interface HealthzPoller {
  /** Resolves once `count` answers have come (the poller's own start-up is over). */
  sampled(count: number): Promise<void>;
  /** Stops polling; the answer times in ms, in order (Infinity for a failed answer). */
  stop(): Promise<number[]>;
}

export function pollHealthz(serverUrl: string): HealthzPoller {
  const child = spawn(process.execPath, ["-e", script], {
    env: { ...process.env, HEALTHZ_URL: `${serverUrl}/healthz` },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const samples: number[] = [];
  let partial = "";
  const waiters: { count: number; resolve: () => void }[] = [];
  child.stdout.on("data", (d: Buffer) => {
    const lines = (partial + d.toString()).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) samples.push(line === "failed" ? Number.POSITIVE_INFINITY : Number(line));
    for (const w of waiters.filter((w) => samples.length >= w.count)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    sampled(count) {
      if (samples.length >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    async stop() {
      child.stdin.end();
      await exited;
      return samples;
    },
  };
}
