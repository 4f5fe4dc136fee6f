// The two .npmrc lines that send an npm scope to a protodepot server with a token, edited in place.
import { appendLine, eolOf, splitLines } from "./lines.js";

export interface NpmrcEntry {
  key: string;
  value: string;
}

/**
 * `@{scope}:registry={registry}` and `//{host}{path}:_authToken={token}`: the registry URL "nerf-darted" (scheme
 * dropped), as npm matches credentials to a registry.
 */
export function npmrcEntries(opts: { scope: string; registry: string; token: string }): NpmrcEntry[] {
  const registry = new URL(opts.registry);
  const base = `//${registry.host}${registry.pathname.endsWith("/") ? registry.pathname : `${registry.pathname}/`}`;
  return [
    { key: `@${opts.scope}:registry`, value: `${registry.protocol}${base}` },
    { key: `${base}:_authToken`, value: opts.token },
  ];
}

/** The key of an ini `key = value` line; undefined for comments, sections and blank lines. */
function keyOf(line: string): string | undefined {
  const body = line.replace(/\r?\n$/, "");
  const trimmed = body.trimStart();
  if (trimmed === "" || trimmed.startsWith(";") || trimmed.startsWith("#") || trimmed.startsWith("[")) {
    return undefined;
  }
  const eq = body.indexOf("=");
  return (eq < 0 ? body : body.slice(0, eq)).trim();
}

/**
 * Sets each entry: the first line with its key is replaced by `key=value` (keeping that line's ending), later
 * lines with the same key are dropped, and a missing key is appended. Every other line stays byte for byte.
 */
export function upsertNpmrc(text: string, entries: readonly NpmrcEntry[]): string {
  const eol = eolOf(text);
  let lines = splitLines(text);
  for (const { key, value } of entries) {
    const line = `${key}=${value}`;
    let seen = false;
    lines = lines.flatMap((current) => {
      if (keyOf(current) !== key) return [current];
      if (seen) return [];
      seen = true;
      const ending = /\r?\n$/.exec(current)?.[0] ?? "";
      return [`${line}${ending}`];
    });
    if (!seen) lines = splitLines(appendLine(lines.join(""), line, eol));
  }
  return lines.join("");
}
