// Cargo naming of generated crates: crate names `{tOwner}_{tName}_{mOwner}_{mName}`, `1.{t}.{seq}` versions, the
// sparse index's file paths, and the Rust module path of a proto package (as prost names it).
//
// - Crate name: the four names joined by `_` (names never hold `_`, so it splits back into exactly four), e.g.
//   `protodepot_rust_demo_money`. Names may hold `-`, which cargo accepts in crate names; the library a consumer
//   writes in `use` is the crate name with `-` → `_`. Cargo refuses names starting with a digit, so a template owner
//   starting with one (`9fans`) has no crates (the other registries still serve it).
// - Version: `1.{template version}.{commit sequence}`, semver like npm's, so `"1.3"` in a Cargo.toml follows a
//   template version line.
// - Index path (lowercased name): 1 char `1/{n}`, 2 `2/{n}`, 3 `3/{first char}/{n}`, else `{n[0..2]}/{n[2..4]}/{n}`.
import { isValidName } from "../../core/names.js";
import { type SyntheticVersion, semverVersion } from "../../core/synthetic-version.js";

/** A template over a module: what one crate is made of. */
export interface CrateParts {
  template: { owner: string; name: string };
  module: { owner: string; name: string };
}

/** The crate name, or undefined when cargo would refuse it (a template owner starting with a digit). */
export function cargoCrateName(p: CrateParts): string | undefined {
  if (/^[0-9]/.test(p.template.owner)) return undefined;
  return `${p.template.owner}_${p.template.name}_${p.module.owner}_${p.module.name}`;
}

/** The four names of a crate name, or undefined for any other name (cargo asks for crates.io names too). */
export function parseCargoCrateName(crate: string): CrateParts | undefined {
  const parts = crate.split("_");
  if (parts.length !== 4 || !parts.every(isValidName) || /^[0-9]/.test(crate)) return undefined;
  const [tOwner = "", tName = "", mOwner = "", mName = ""] = parts;
  return { template: { owner: tOwner, name: tName }, module: { owner: mOwner, name: mName } };
}

/** What `extern crate`/`use` name the crate's library has: `-` is not allowed in Rust identifiers. */
export function cargoLibName(crate: string): string {
  return crate.replace(/-/g, "_");
}

/** `1.{t}.{seq}`. */
export const cargoVersion = semverVersion;

/** Only this exact shape names a version (no leading zeros, no pre-release or build parts). */
export function parseCargoVersion(text: string): SyntheticVersion | undefined {
  const m = /^1\.([1-9][0-9]{0,8})\.([1-9][0-9]{0,11})$/.exec(text);
  return m ? { templateVersion: Number(m[1]), commitSeq: Number(m[2]) } : undefined;
}

/** Where the sparse index keeps a crate's file, relative to the index root. */
export function cargoIndexPath(crate: string): string {
  const n = crate.toLowerCase();
  if (n.length === 1) return `1/${n}`;
  if (n.length === 2) return `2/${n}`;
  if (n.length === 3) return `3/${n[0]}/${n}`;
  return `${n.slice(0, 2)}/${n.slice(2, 4)}/${n}`;
}

/** The crate name an index path names, when the path is the one cargoIndexPath gives for it; else undefined. */
export function parseCargoIndexPath(path: string): string | undefined {
  const name = path.slice(path.lastIndexOf("/") + 1);
  return name !== "" && name === name.toLowerCase() && cargoIndexPath(name) === path ? name : undefined;
}

/** Rust keywords prost writes as raw identifiers (`r#type`). */
const rawKeywords = new Set(
  (
    "as break const continue else enum false fn for if impl in let loop match mod move mut pub ref return " +
    "static struct trait true type unsafe use where while dyn abstract become box do final macro override priv " +
    "typeof unsized virtual yield async await try"
  ).split(" "),
);
/** Keywords that cannot be raw identifiers: prost appends `_`. */
const suffixedKeywords = new Set(["self", "super", "extern", "crate"]);

/**
 * The Rust module of a proto package component, as prost-build 0.11 names it (`to_snake` with its keyword rules),
 * for the components whose snake case is themselves: lowercase letters, digits and single inner `_`. Others
 * (`FooBar`) are undefined: their crates are refused rather than guessed (our plugin refuses them too).
 */
export function rustModuleName(component: string): string | undefined {
  if (!/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/.test(component)) return undefined;
  if (rawKeywords.has(component)) return `r#${component}`;
  if (suffixedKeywords.has(component)) return `${component}_`;
  return component;
}
