// Synthetic versions: `v1.{template version}.{commit seq}` (Go) and `1.{t}.{seq}` (npm, PyPI).
import { invalidArgument } from "./errors.js";

export interface SyntheticVersion {
  templateVersion: number;
  commitSeq: number;
}

export function goVersion(v: SyntheticVersion): string {
  return `v1.${v.templateVersion}.${v.commitSeq}`;
}

export function semverVersion(v: SyntheticVersion): string {
  return `1.${v.templateVersion}.${v.commitSeq}`;
}

const synthetic = /^v?1\.([1-9][0-9]{0,8})\.([1-9][0-9]{0,11})$/;

/** Parses `v1.T.S` or `1.T.S`; anything else is an InvalidArgument naming the expected shape. */
export function parseSyntheticVersion(text: string): SyntheticVersion {
  const m = synthetic.exec(text);
  if (!m) {
    throw invalidArgument(
      `invalid version "${text}": expected v1.{template version}.{commit sequence}, e.g. v1.2.7`,
    );
  }
  return { templateVersion: Number(m[1]), commitSeq: Number(m[2]) };
}

export function isSyntheticVersion(text: string): boolean {
  return synthetic.test(text);
}
