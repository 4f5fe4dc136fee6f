// Reads the server's Prometheus metrics, the way an operator's scraper would.
import { adminToken, type TestServer } from "./server.js";

/** Total plugin runs so far, over every plugin. */
export async function pluginRuns(server: TestServer): Promise<number> {
  const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${adminToken}` } });
  if (!res.ok) throw new Error(`GET /metrics: ${res.status} ${await res.text()}`);
  const text = await res.text();
  return text
    .split("\n")
    .filter((l) => l.startsWith("protodepot_plugin_runs_total"))
    .reduce((n, l) => n + Number(l.split(" ").pop()), 0);
}
