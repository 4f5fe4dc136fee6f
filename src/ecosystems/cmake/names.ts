// CMake naming of generated archives: the FetchContent name and target `{tOwner}_{tName}_{mOwner}_{mName}`, the
// ALIAS `{tOwner}::{tName}_{mOwner}_{mName}`, `1.{t}.{seq}` versions, and the archive's path under /cmake/.
import { type SyntheticVersion, semverVersion } from "../../core/synthetic-version.js";

/** A template over a module: what one CMake package is made of. */
export interface CmakeParts {
  template: { owner: string; name: string };
  module: { owner: string; name: string };
}

/** The FetchContent name and library target: `protodepot_cpp_demo_payments` (names never hold `_`). */
export function cmakePackageName(p: CmakeParts): string {
  return `${p.template.owner}_${p.template.name}_${p.module.owner}_${p.module.name}`;
}

/** What consumers link: `protodepot::cpp_demo_payments`. */
export function cmakeAliasTarget(p: CmakeParts): string {
  return `${p.template.owner}::${p.template.name}_${p.module.owner}_${p.module.name}`;
}

/** `1.{t}.{seq}`. */
export const cmakeVersion = semverVersion;

/** Only this exact shape names a version; anything else is undefined. */
export function parseCmakeVersion(text: string): SyntheticVersion | undefined {
  const m = /^1\.([1-9][0-9]{0,8})\.([1-9][0-9]{0,11})$/.exec(text);
  return m ? { templateVersion: Number(m[1]), commitSeq: Number(m[2]) } : undefined;
}

/** The archive's path below the server's URL: `/cmake/{tOwner}/{tName}/{mOwner}/{mName}/{version}.tar.gz`. */
export function cmakeArchivePath(p: CmakeParts, version: string): string {
  return `/cmake/${p.template.owner}/${p.template.name}/${p.module.owner}/${p.module.name}/${version}.tar.gz`;
}
