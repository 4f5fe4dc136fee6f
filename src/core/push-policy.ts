// Parsing push-policy values as users write them (`--breaking reject`, `--lint-category basic,comments`).
import { invalidArgument } from "./errors.js";
import {
  type BreakingCategory,
  breakingCategories,
  type LintCategory,
  lintCategories,
  type PolicyAction,
} from "./types.js";

const actions: readonly PolicyAction[] = ["off", "warn", "reject"];

export function parsePolicyAction(text: string, what: "breaking" | "lint"): PolicyAction {
  const action = actions.find((a) => a === text.toLowerCase());
  if (!action) throw invalidArgument(`invalid ${what} policy "${text}": use off, warn or reject`);
  return action;
}

export function parseBreakingCategory(text: string): BreakingCategory {
  const found = breakingCategories.find((c) => c === text.toUpperCase());
  if (!found) {
    throw invalidArgument(`invalid breaking category "${text}": use one of ${breakingCategories.join(", ")}`);
  }
  return found;
}

export function parseLintCategories(texts: readonly string[]): LintCategory[] {
  const parsed = texts.map((text) => {
    const found = lintCategories.find((c) => c === text.toUpperCase());
    if (!found) throw invalidArgument(`invalid lint category "${text}": use ${lintCategories.join(", ")}`);
    return found;
  });
  if (parsed.length === 0)
    throw invalidArgument(`name at least one lint category: ${lintCategories.join(", ")}`);
  return [...new Set(parsed)];
}
