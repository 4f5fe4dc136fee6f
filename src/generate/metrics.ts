// Prometheus metrics of the generation engine; the server exposes them on /metrics.
import { Counter, register as defaultRegister, Histogram, type Registry } from "prom-client";

export interface GenerateMetrics {
  /** One plugin run finished (successfully or not) after `ms`. */
  observeRun(plugin: string, ms: number): void;
}

const runsName = "protodepot_plugin_runs_total";
const durationName = "protodepot_plugin_run_duration_ms";

/**
 * Registers the metrics on `registry` (the default register when omitted). Asking twice for the same registry
 * returns the same metrics rather than failing on a duplicate name, so tests and restarts can call it freely.
 */
export function createGenerateMetrics(registry: Registry = defaultRegister): GenerateMetrics {
  const runs =
    (registry.getSingleMetric(runsName) as Counter<"plugin"> | undefined) ??
    new Counter({
      name: runsName,
      help: "Plugin runs, by plugin (owner/name:version).",
      labelNames: ["plugin"],
      registers: [registry],
    });
  const duration =
    (registry.getSingleMetric(durationName) as Histogram<"plugin"> | undefined) ??
    new Histogram({
      name: durationName,
      help: "Wall time of one plugin run in milliseconds, sandbox included.",
      labelNames: ["plugin"],
      buckets: [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000],
      registers: [registry],
    });
  return {
    observeRun(plugin, ms) {
      runs.inc({ plugin });
      duration.observe({ plugin }, ms);
    },
  };
}
