// Reads the server's Prometheus metrics, the way an operator's scraper would.
import { adminToken, type TestServer } from "./server.js";

/** One counter's total so far, over all its label values (of the worker that answers the scrape). */
export async function counter(server: TestServer, name: string): Promise<number> {
  const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${adminToken}` } });
  if (!res.ok) throw new Error(`GET /metrics: ${res.status} ${await res.text()}`);
  const text = await res.text();
  return text
    .split("\n")
    .filter((l) => l.startsWith(name))
    .reduce((n, l) => n + Number(l.split(" ").pop()), 0);
}

/** Total plugin runs so far, over every plugin. */
export const pluginRuns = (server: TestServer) => counter(server, "protodepot_plugin_runs_total");
