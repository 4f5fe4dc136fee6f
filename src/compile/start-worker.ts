// Starts a worker thread on a module next to this one, from dist/ (plain JavaScript) and from a checkout run through
// tsx alike: there the worker registers tsx before importing the TypeScript source.
import { Worker, type WorkerOptions } from "node:worker_threads";

export function startWorker(name: string, opts: WorkerOptions = {}): Worker {
  const fromSource = import.meta.url.endsWith(".ts");
  const entry = new URL(`./${name}${fromSource ? ".ts" : ".js"}`, import.meta.url);
  const source = fromSource
    ? `import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))}).then((t) => { t.register(); return import(${JSON.stringify(entry.href)}); });`
    : `import(${JSON.stringify(entry.href)});`;
  return new Worker(source, { ...opts, eval: true });
}
