// RubyGems naming of generated gems: gem names `{tOwner}_{tName}_{mOwner}_{mName}`, `1.{t}.{seq}` versions, and the
// file names the compact index, the quick specs and the .gem downloads use.
//
// `_` separates the four names, as in our npm and Maven names: a name never holds `_`, so a gem name splits back into
// exactly one (template, module) and nothing needs to be looked up to read it. Gem names are case-sensitive; ours are
// lowercase `[a-z0-9_-]`, which Bundler also stores plainly in its compact index cache.
import { invalidArgument } from "../../core/errors.js";
import { isValidName } from "../../core/names.js";
import { type SyntheticVersion, semverVersion } from "../../core/synthetic-version.js";

/** The four names a generated gem is made of. */
export interface GemParts {
  templateOwner: string;
  templateName: string;
  moduleOwner: string;
  moduleName: string;
}

export function gemName(p: GemParts): string {
  return `${p.templateOwner}_${p.templateName}_${p.moduleOwner}_${p.moduleName}`;
}

export type ParsedGemName = { kind: "ours"; parts: GemParts } | { kind: "foreign" };

/** Longest name of ours: four names of at most 64 characters and three separators. */
export const maxGemNameLength = 4 * 64 + 3;

/**
 * A name without `_` is someone else's gem (`google-protobuf`, which `gem install` asks about as a dependency);
 * a name with `_` that is not four valid names is an InvalidArgument (a 400).
 */
export function parseGemName(name: string): ParsedGemName {
  if (!name.includes("_")) return { kind: "foreign" };
  const parts = name.split("_");
  const [templateOwner = "", templateName = "", moduleOwner = "", moduleName = ""] = parts;
  if (name.length > maxGemNameLength || parts.length !== 4 || !parts.every(isValidName)) {
    throw invalidArgument(
      `invalid gem name "${name.slice(0, 300)}": this source serves {templateOwner}_{templateName}_{moduleOwner}_{moduleName}, e.g. protodepot_ruby_acme_payments`,
    );
  }
  return { kind: "ours", parts: { templateOwner, templateName, moduleOwner, moduleName } };
}

/** `1.{t}.{seq}`: an ordinary release version for RubyGems (a letter would make it a prerelease). */
export const gemVersion = semverVersion;

/** Only the exact `1.{t}.{seq}` shape names a version (no leading zeros, no prerelease or platform part). */
export function parseGemVersion(text: string): SyntheticVersion | undefined {
  const m = /^1\.([1-9][0-9]{0,8})\.([1-9][0-9]{0,11})$/.exec(text);
  return m ? { templateVersion: Number(m[1]), commitSeq: Number(m[2]) } : undefined;
}

/** `{name}-{version}{suffix}`: `.gem` downloads and `.gemspec.rz` quick specs. */
export function gemFileName(name: string, version: string, suffix: ".gem" | ".gemspec.rz"): string {
  return `${name}-${version}${suffix}`;
}

/**
 * Reads `{name}-{version}{suffix}` back. Versions hold no `-` (ours never have a platform), so the version starts
 * after the last one. Undefined when the file does not end in the suffix or has no `-`.
 */
export function parseGemFileName(
  file: string,
  suffix: ".gem" | ".gemspec.rz",
): { name: string; version: string } | undefined {
  if (!file.endsWith(suffix)) return undefined;
  const stem = file.slice(0, -suffix.length);
  const dash = stem.lastIndexOf("-");
  if (dash <= 0 || dash === stem.length - 1) return undefined;
  return { name: stem.slice(0, dash), version: stem.slice(dash + 1) };
}
