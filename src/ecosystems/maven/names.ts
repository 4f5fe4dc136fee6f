// Maven naming of generated artifacts: artifactId `{tOwner}_{tName}_{mOwner}_{mName}`, `1.{t}.{seq}` versions,
// the shape of a groupId.
import { invalidArgument } from "../../core/errors.js";
import { isValidName } from "../../core/names.js";
import { type SyntheticVersion, semverVersion } from "../../core/synthetic-version.js";

/** The four names an artifact is made of. */
export interface MavenArtifactParts {
  templateOwner: string;
  templateName: string;
  moduleOwner: string;
  moduleName: string;
}

/** `{templateOwner}_{templateName}_{moduleOwner}_{moduleName}`, like our npm names: `_` never occurs in a name. */
export function mavenArtifactId(p: MavenArtifactParts): string {
  return `${p.templateOwner}_${p.templateName}_${p.moduleOwner}_${p.moduleName}`;
}

/** Splits an artifactId back into its four names; anything else is an InvalidArgument (a 400). */
export function parseMavenArtifactId(artifactId: string): MavenArtifactParts {
  const parts = artifactId.split("_");
  const [templateOwner = "", templateName = "", moduleOwner = "", moduleName = ""] = parts;
  if (parts.length !== 4 || !parts.every(isValidName)) {
    throw invalidArgument(
      `invalid artifactId "${artifactId}": expected {templateOwner}_{templateName}_{moduleOwner}_{moduleName}, e.g. protodepot_java_acme_payments`,
    );
  }
  return { templateOwner, templateName, moduleOwner, moduleName };
}

/** `1.{t}.{seq}`, as for npm: numeric segments compare as Maven orders versions. */
export const mavenVersion = semverVersion;

/** Only this exact shape names a version (no `v`, no leading zeros, no qualifier); else undefined. */
export function parseMavenVersion(text: string): SyntheticVersion | undefined {
  const m = /^1\.([1-9][0-9]{0,8})\.([1-9][0-9]{0,11})$/.exec(text);
  return m ? { templateVersion: Number(m[1]), commitSeq: Number(m[2]) } : undefined;
}

/** A Maven groupId: dot-separated Java-identifier-like segments (`protodepot.gen`). */
export const groupIdPattern = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
