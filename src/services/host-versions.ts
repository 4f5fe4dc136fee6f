// Versions of programs on this machine, read as plugin versions: `--version` output, or a Debian package's.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import semver from "semver";

const exec = promisify(execFile);

/** A `--version` line ending in a version, coerced to `vX.Y.Z`. */
export async function hostVersion(command: string): Promise<string | undefined> {
  try {
    const { stdout } = await exec(command, ["--version"], { timeout: 5000 });
    const v = semver.coerce(stdout.trim().split(/\s+/).pop() ?? "");
    return v ? `v${v.version}` : undefined;
  } catch {
    return undefined;
  }
}

/** A `--version` line ending in `X.Y.Z-N` (a revision of upstream X.Y.Z, BSR's form) as `vX.Y.Z-N`. */
export async function revisionVersion(command: string): Promise<string | undefined> {
  try {
    const { stdout } = await exec(command, ["--version"], { timeout: 5000 });
    const v = semver.valid(stdout.trim().split(/\s+/).pop() ?? "");
    return v ? `v${v}` : undefined;
  } catch {
    return undefined;
  }
}

/** A Debian package's installed version as a plugin version (`1.51.1-3+b1` → `v1.51.1`), if installed. */
export async function debianVersion(pkg: string): Promise<string | undefined> {
  try {
    // `{package}\t{version}`; an epoch (`1:`) is not part of the upstream version.
    const { stdout } = await exec("dpkg-query", ["-W", pkg], { timeout: 5000 });
    const v = semver.coerce((stdout.trim().split("\t")[1] ?? "").replace(/^\d+:/, ""));
    return v ? `v${v.version}` : undefined;
  } catch {
    return undefined;
  }
}
