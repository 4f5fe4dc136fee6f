#!/usr/bin/env node
// Entry point of the `protodepot` command. Runs the compiled CLI in dist/ (built by `npm ci` through the
// `prepare` script, or `npm run build`) when it is newer than every source file; otherwise — a checkout whose
// sources were edited since the last build — the TypeScript sources through tsx, slower to start but current.
import { readdirSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const built = `${root}dist/cli/run.js`;

function builtAt() {
  try {
    return statSync(built).mtimeMs;
  } catch {
    return undefined;
  }
}

/** True when a file under dir changed after `since` (about 10 ms for src/ when the disk cache is cold). */
function changedSince(dir, since) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory() ? changedSince(path, since) : statSync(path).mtimeMs > since) return true;
  }
  return false;
}

const since = builtAt();
if (since !== undefined && !changedSince(`${root}src`, since)) {
  await import(new URL("../dist/cli/run.js", import.meta.url).href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../src/cli/run.ts");
}
