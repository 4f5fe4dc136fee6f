// PyPI naming of generated projects: project names (PEP 503), `1.{t}.{seq}` versions, wheel file names (PEP 427),
// and every reading of a normalized name.
import { type FullName, isValidName } from "../../core/names.js";
import { type SyntheticVersion, semverVersion } from "../../core/synthetic-version.js";

/** A template over a module: what one project is made of. */
export interface PypiProjectParts {
  template: FullName;
  module: FullName;
}

/** PEP 503 normalization: runs of `-`, `_` and `.` become one `-`, lowercase. */
export function normalizePypiName(name: string): string {
  return name.replace(/[-_.]+/g, "-").toLowerCase();
}

/** `{templateOwner}-{templateName}-{moduleOwner}-{moduleName}`, already normalized (names are `[a-z0-9-]`). */
export function pypiProjectName(p: PypiProjectParts): string {
  return `${p.template.owner}-${p.template.name}-${p.module.owner}-${p.module.name}`;
}

/** The distribution part of wheel and dist-info names (PEP 427 escaping of a normalized name). */
export function wheelDistribution(project: string): string {
  return project.replace(/-/g, "_");
}

/** `1.{t}.{seq}`, PEP 440 and semver alike. */
export const pypiVersion = semverVersion;

/** Only the exact `1.{t}.{seq}` shape names a version (no leading zeros, no local or pre-release parts). */
export function parsePypiVersion(text: string): SyntheticVersion | undefined {
  const m = /^1\.([1-9][0-9]{0,8})\.([1-9][0-9]{0,11})$/.exec(text);
  return m ? { templateVersion: Number(m[1]), commitSeq: Number(m[2]) } : undefined;
}

export function wheelFileName(project: string, version: string): string {
  return `${wheelDistribution(project)}-${version}-py3-none-any.whl`;
}

/** The version a wheel file name of `project` carries; undefined for any other name. */
export function wheelFileVersion(project: string, file: string): string | undefined {
  const prefix = `${wheelDistribution(project)}-`;
  const suffix = "-py3-none-any.whl";
  if (!file.startsWith(prefix) || !file.endsWith(suffix)) return undefined;
  return file.slice(prefix.length, -suffix.length);
}

/**
 * Every way a normalized project name splits into four valid names. Names never hold `_` or `.`, but do hold `-`,
 * so `a-b-c-d-e` has several readings; the caller keeps those that exist. At most `maxCandidates` are returned:
 * names are at most 64 characters, so a longer name can only be padding.
 */
export function pypiNameCandidates(normalized: string, maxCandidates = 4096): PypiProjectParts[] {
  const tokens = normalized.split("-");
  const out: PypiProjectParts[] = [];
  const join = (from: number, to: number) => tokens.slice(from, to).join("-");
  const n = tokens.length;
  for (let i = 1; i <= n - 3; i++) {
    const tOwner = join(0, i);
    if (!isValidName(tOwner)) continue;
    for (let j = i + 1; j <= n - 2; j++) {
      const tName = join(i, j);
      if (!isValidName(tName)) continue;
      for (let k = j + 1; k <= n - 1; k++) {
        const mOwner = join(j, k);
        const mName = join(k, n);
        if (!isValidName(mOwner) || !isValidName(mName)) continue;
        out.push({ template: { owner: tOwner, name: tName }, module: { owner: mOwner, name: mName } });
        if (out.length >= maxCandidates) return out;
      }
    }
  }
  return out;
}
