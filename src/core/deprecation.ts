// What a consumer is told about deprecated things: one line naming each deprecated module, template or plugin and
// its owner's message, the same text in every registry (npm `deprecated`, Go `// Deprecated:`, PyPI, the web UI).
import type { Commit, TemplateVersion } from "./types.js";

/** Most characters of an owner's deprecation message. */
export const maxDeprecationChars = 1000;

export interface DeprecatedThing {
  kind: "module" | "template" | "plugin";
  owner: string;
  name: string;
  /** Absent while not deprecated; the owner's message (possibly empty) while deprecated. */
  deprecation?: string | undefined;
}

/** Whitespace runs (newlines too) become one space: a notice is one line in every client. */
const oneLine = (text: string) => text.replace(/\s+/g, " ").trim();

/**
 * `module acme/payments is deprecated: use acme/billing; plugin bufbuild/es is deprecated`, or undefined when none
 * of `things` is deprecated. Never empty when defined: npm takes an empty `deprecated` for "not deprecated".
 */
export function deprecationNotice(things: readonly DeprecatedThing[]): string | undefined {
  const seen = new Set<string>();
  const parts: string[] = [];
  for (const t of things) {
    const key = `${t.kind} ${t.owner}/${t.name}`;
    if (t.deprecation === undefined || seen.has(key)) continue;
    seen.add(key);
    const message = oneLine(t.deprecation);
    parts.push(`${key} is deprecated${message ? `: ${message}` : ""}`);
  }
  return parts.length > 0 ? parts.join("; ") : undefined;
}

/**
 * What one generated version says for good (Go's go.mod): the module's deprecation as recorded with the commit at
 * its push, and what the template version recorded at its creation. Current deprecations do not enter: a version's
 * bytes never change (docs/lifecycle.md).
 */
export function recordedDeprecation(
  commit: Pick<Commit, "owner" | "module" | "deprecation">,
  templateVersion: Pick<TemplateVersion, "deprecation">,
): string | undefined {
  const own = deprecationNotice([
    { kind: "module", owner: commit.owner, name: commit.module, deprecation: commit.deprecation },
  ]);
  const parts = [own, templateVersion.deprecation].filter((p): p is string => p !== undefined);
  return parts.length > 0 ? parts.join("; ") : undefined;
}
