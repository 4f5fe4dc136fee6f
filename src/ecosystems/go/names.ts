// Go naming of generated code: module paths `{goHost}/{tOwner}/{tName}/{mOwner}/{mName}` and Go's case-escaping
// of them, `v1.{t}.{seq}` versions, per-file import paths (`M` plugin options) and package names.
import { posix } from "node:path";
import { Code, invalidArgument, isRegistryError, RegistryError } from "../../core/errors.js";
import { type FullName, parseFullName } from "../../core/names.js";
import { parseSyntheticVersion, type SyntheticVersion } from "../../core/synthetic-version.js";

export interface GoModuleName {
  goHost: string;
  templateOwner: string;
  templateName: string;
  moduleOwner: string;
  moduleName: string;
}

/** `{goHost}/{templateOwner}/{templateName}/{moduleOwner}/{moduleName}`. */
export function goModulePath(n: GoModuleName): string {
  return `${n.goHost}/${n.templateOwner}/${n.templateName}/${n.moduleOwner}/${n.moduleName}`;
}

const versionElement = /^v\d+((alpha|beta)\d*)?$/;

/**
 * A valid Go identifier from a proto file's directory, in buf's managed-mode style: `demo/payments/v1` →
 * `paymentsv1`, `acme/pay` → `pay`; a file at the module root takes the module's name.
 */
export function goPackageName(dir: string, fallback: string): string {
  const parts = dir === "." || dir === "" ? [] : dir.split("/");
  const last = parts[parts.length - 1];
  const parent = parts[parts.length - 2];
  const raw = last === undefined ? fallback : versionElement.test(last) && parent ? `${parent}${last}` : last;
  let name = raw.toLowerCase().replace(/[^a-z0-9_]/g, "_");
  if (!/^[a-z_]/.test(name)) name = `_${name}`;
  return name;
}

/** `M{file}={module path}/{dir};{package}` for each proto file of one module. */
export function goImportOptions(modulePath: string, moduleName: string, files: readonly string[]): string[] {
  return files.map((file) => {
    const dir = posix.dirname(file);
    const importPath = dir === "." ? modulePath : `${modulePath}/${dir}`;
    return `M${file}=${importPath};${goPackageName(dir, moduleName)}`;
  });
}

export interface GoModuleRef {
  /** The module path as Go spells it (unescaped). */
  path: string;
  template: FullName;
  module: FullName;
}

// The go command treats 404 and 410 as "not here" and tries the next proxy or a shorter path prefix; anything
// about the path itself must answer that way, or one bad prefix probe fails a whole `go get`.
export const notHere = (message: string) => new RegistryError(Code.NotFound, message);

/** Go's `!x` → `X` (golang.org/x/mod/module.UnescapePath); an unescaped uppercase letter is not a valid request. */
export function unescapeGoPath(escaped: string): string | undefined {
  let out = "";
  for (let i = 0; i < escaped.length; i++) {
    const c = escaped[i] ?? "";
    if (c === "!") {
      const next = escaped[i + 1] ?? "";
      if (!/^[a-z]$/.test(next)) return undefined;
      out += next.toUpperCase();
      i++;
    } else if (/^[A-Z]$/.test(c)) {
      return undefined;
    } else {
      out += c;
    }
  }
  return out;
}

/** `X` → `!x`, the inverse of unescapeGoPath. */
export function escapeGoPath(path: string): string {
  return path.replace(/[A-Z]/g, (c) => `!${c.toLowerCase()}`);
}

export function parseGoModulePath(escaped: string, goHost: string): GoModuleRef {
  const path = unescapeGoPath(escaped);
  if (path === undefined) {
    throw notHere(
      `invalid escaped module path "${escaped}": uppercase letters are written as !x (the go command does this)`,
    );
  }
  const shape = `${goHost}/{template owner}/{template name}/{module owner}/{module name}`;
  const parts = path.split("/");
  if (parts[0] !== goHost) {
    if (parts[0]?.toLowerCase() === goHost)
      throw notHere(`module ${path} not found: module paths are lowercase, try ${path.toLowerCase()}`);
    // Typically google.golang.org/protobuf, which every generated module requires: go asks us first.
    throw notHere(
      `module ${path} not found: this proxy serves ${shape}; the Go host is configured with --go-host or PROTODEPOT_GO_HOST. ` +
        "For every other module, let go fall through to the next proxy: GOPROXY=http://HOST/go,https://proxy.golang.org,direct",
    );
  }
  if (parts.length !== 5) throw notHere(`module ${path} not found: generated modules have paths ${shape}`);
  if (path !== path.toLowerCase())
    throw notHere(`module ${path} not found: module paths are lowercase, try ${path.toLowerCase()}`);
  const [, tOwner, tName, mOwner, mName] = parts;
  try {
    return {
      path,
      template: parseFullName("template", `${tOwner}/${tName}`),
      module: parseFullName("module", `${mOwner}/${mName}`),
    };
  } catch (err) {
    if (isRegistryError(err, Code.InvalidArgument)) throw notHere(`module ${path} not found: ${err.message}`);
    throw err;
  }
}

const canonicalSemver = /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

/**
 * `v1.{t}.{seq}`. A well-formed Go version that cannot be one of ours (`v2.0.0`, a pseudo-version) is simply not
 * found; anything else is malformed.
 */
export function parseGoVersion(text: string, module: GoModuleRef): SyntheticVersion {
  if (text.startsWith("v")) {
    try {
      return parseSyntheticVersion(text);
    } catch (err) {
      if (!canonicalSemver.test(text)) throw err;
    }
  }
  if (canonicalSemver.test(text)) {
    throw notHere(
      `module ${module.path} has no version ${text}: versions are v1.{template version}.{commit sequence}`,
    );
  }
  throw invalidArgument(
    `invalid version "${text}": expected v1.{template version}.{commit sequence}, e.g. v1.2.7`,
  );
}
