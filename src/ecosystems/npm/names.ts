// npm naming of generated packages: `@{scope}/{tOwner}_{tName}_{mOwner}_{mName}` and `1.{t}.{seq}` versions.
import { invalidArgument } from "../../core/errors.js";
import { isValidName } from "../../core/names.js";
import type { SyntheticVersion } from "../../core/synthetic-version.js";

/** The four names a generated package is made of. */
export interface NpmPackageParts {
  templateOwner: string;
  templateName: string;
  moduleOwner: string;
  moduleName: string;
}

/** `{templateOwner}_{templateName}_{moduleOwner}_{moduleName}`: `_` never occurs in a name, so it splits back. */
export function npmBareName(p: NpmPackageParts): string {
  return `${p.templateOwner}_${p.templateName}_${p.moduleOwner}_${p.moduleName}`;
}

/** `@{scope}/{templateOwner}_{templateName}_{moduleOwner}_{moduleName}`. */
export function npmPackageName(scope: string, p: NpmPackageParts): string {
  return `@${scope}/${npmBareName(p)}`;
}

export type ParsedNpmName = { kind: "ours"; parts: NpmPackageParts } | { kind: "foreign" };

/**
 * Splits `@scope/t_t_m_m`. A name outside our scope is `foreign` (a 404 for the registry: someone else's
 * package); a name in our scope that is not four valid names joined by `_` is an InvalidArgument (a 400).
 */
export function parseNpmPackageName(scope: string, name: string): ParsedNpmName {
  const prefix = `@${scope}/`;
  if (!name.startsWith(prefix)) return { kind: "foreign" };
  const bare = name.slice(prefix.length);
  const parts = bare.split("_");
  const [templateOwner = "", templateName = "", moduleOwner = "", moduleName = ""] = parts;
  if (parts.length !== 4 || !parts.every(isValidName)) {
    throw invalidArgument(
      `invalid package name "${name}": expected ${prefix}{templateOwner}_{templateName}_{moduleOwner}_{moduleName}, e.g. ${prefix}protodepot_es_acme_payments`,
    );
  }
  return { kind: "ours", parts: { templateOwner, templateName, moduleOwner, moduleName } };
}

/** npm's `1.{t}.{seq}`; only this exact shape names a version (no `v`, no leading zeros, no prerelease). */
export function parseNpmVersion(text: string): SyntheticVersion | undefined {
  const m = /^1\.([1-9][0-9]{0,8})\.([1-9][0-9]{0,11})$/.exec(text);
  return m ? { templateVersion: Number(m[1]), commitSeq: Number(m[2]) } : undefined;
}
