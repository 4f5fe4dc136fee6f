// Reads the server's Prometheus metrics, the way an operator's scraper would.
import type { TestServer } from "./server.js";

/** Total plugin runs so far, over every plugin. */
export async function pluginRuns(server: TestServer): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return text
    .split("\n")
    .filter((l) => l.startsWith("protodepot_plugin_runs_total"))
    .reduce((n, l) => n + Number(l.split(" ").pop()), 0);
}
