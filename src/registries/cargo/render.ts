// The sparse index's two documents: config.json at the index root, and one JSON line per version of a crate.
import type { IndexEntry } from "./catalog.js";

/**
 * `dl` and `api` under the root the client used (`/cargo` or `/cargo/token`), so downloads go where its token
 * goes; `auth-required` under the token root, so cargo sends the token on every index and download request.
 */
export function renderConfig(base: string, authRequired: boolean): string {
  return JSON.stringify({
    dl: `${base}/crates/{crate}/{version}/download`,
    api: base,
    ...(authRequired ? { "auth-required": true } : {}),
  });
}

/** One line per version, oldest first, fields in the order crates.io writes them. */
export function renderIndexFile(crate: string, entries: readonly IndexEntry[]): string {
  return entries
    .map(
      (e) =>
        `${JSON.stringify({
          name: crate,
          vers: e.version,
          deps: e.deps,
          cksum: e.cksum,
          features: {},
          yanked: false,
        })}\n`,
    )
    .join("");
}
