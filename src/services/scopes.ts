// Token scopes (docs/tokens.md): what a token may do beyond what its user may. The rules live here; the access
// policy applies them to every write, and account changes (tokens, organizations, members, bots) need a token
// without a scope.
import { Code, RegistryError } from "../core/errors.js";
import { checkName } from "../core/names.js";

/** Scopes a token may carry at most: a CI token names a few modules, not hundreds. */
export const maxScopes = 32;

/**
 * The canonical form of requested scopes: `read`, `write:OWNER`, `write:OWNER/MODULE`, checked, without duplicates,
 * sorted; `read` beside a write scope is dropped (every write scope also reads). Empty: no limit beyond the user's.
 */
export function parseScopes(requested: readonly string[]): string[] {
  if (requested.length > maxScopes) {
    throw new RegistryError(
      Code.InvalidArgument,
      `a token may have at most ${maxScopes} scopes (${requested.length} given): name owners rather than modules`,
    );
  }
  const out = new Set<string>();
  for (const raw of requested) {
    const scope = raw.trim();
    if (scope === "read") {
      out.add(scope);
      continue;
    }
    const m = /^write:([^/]*)(?:\/(.*))?$/.exec(scope);
    if (!m) {
      throw new RegistryError(
        Code.InvalidArgument,
        `invalid scope "${scope.slice(0, 80)}": use read, write:OWNER or write:OWNER/MODULE`,
      );
    }
    const owner = checkName("owner", m[1] ?? "");
    out.add(m[2] === undefined ? `write:${owner}` : `write:${owner}/${checkName("module", m[2])}`);
  }
  // write:acme covers write:acme/x.
  for (const scope of out) {
    const slash = scope.indexOf("/");
    if (slash !== -1 && out.has(scope.slice(0, slash))) out.delete(scope);
  }
  if (out.size > 1) out.delete("read");
  return [...out].sort();
}

/** Whether a token with `scopes` may change `owner`'s things (`module`: one module of it; absent: the owner's). */
export function scopeAllowsWrite(
  scopes: readonly string[] | undefined,
  owner: string,
  module?: string,
): boolean {
  if (!scopes || scopes.length === 0) return true;
  return scopes.some(
    (s) => s === `write:${owner}` || (module !== undefined && s === `write:${owner}/${module}`),
  );
}

/** How a scope reads in messages: `read`, `write:acme/payments`, … */
export function describeScopes(scopes: readonly string[] | undefined): string {
  return scopes && scopes.length > 0 ? scopes.join(", ") : "all";
}

/** The refusal of a write outside the token's scope: it names the scope and what would be needed. */
export function outOfScope(
  scopes: readonly string[],
  owner: string,
  op: string,
  module?: string,
): RegistryError {
  const needed = module === undefined ? `write:${owner}` : `write:${owner} or write:${owner}/${module}`;
  return new RegistryError(
    Code.PermissionDenied,
    `this token's scope is ${describeScopes(scopes)}: it may not ${op} of ${owner}${module === undefined ? "" : ` (module ${owner}/${module})`}; that needs a token with scope ${needed}`,
    { op, owner },
  );
}

/** Account changes (tokens, organizations, members, bots) need a token without a scope. */
export function requireUnscoped(scopes: readonly string[] | undefined, op: string): void {
  if (scopes && scopes.length > 0) {
    throw new RegistryError(
      Code.PermissionDenied,
      `this token's scope is ${describeScopes(scopes)}: ${op} needs a token without a scope`,
      { op },
    );
  }
}
