// GOPROXY request paths: Go's case-escaping and `{goHost}/{tOwner}/{tName}/{mOwner}/{mName}` module paths.
import { Code, invalidArgument, isRegistryError, RegistryError } from "../../core/errors.js";
import { type FullName, isCommitId, isLabelName, parseFullName } from "../../core/names.js";
import { parseSyntheticVersion, type SyntheticVersion } from "../../core/synthetic-version.js";

/** What one GOPROXY request asks for, after `/go/`. */
export type GoproxyTarget =
  | { endpoint: "list"; module: GoModuleRef }
  | { endpoint: "latest"; module: GoModuleRef }
  | { endpoint: "info"; module: GoModuleRef; version: string }
  | { endpoint: "mod"; module: GoModuleRef; version: string }
  | { endpoint: "zip"; module: GoModuleRef; version: string };

export interface GoModuleRef {
  /** The module path as Go spells it (unescaped). */
  path: string;
  template: FullName;
  module: FullName;
}

// The go command treats 404 and 410 as "not here" and tries the next proxy or a shorter path prefix; anything
// about the path itself must answer that way, or one bad prefix probe fails a whole `go get`.
const notHere = (message: string) => new RegistryError(Code.NotFound, message);

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

/** Splits `{escaped module}/@v/{file}` or `{escaped module}/@latest`. */
export function parseGoproxyPath(rest: string, goHost: string): GoproxyTarget {
  if (rest.endsWith("/@latest"))
    return { endpoint: "latest", module: parseModulePath(rest.slice(0, -"/@latest".length), goHost) };
  const at = rest.lastIndexOf("/@v/");
  if (at < 0)
    throw notHere(
      `not a GOPROXY request: expected {module}/@v/list, {module}/@v/{version}.info|.mod|.zip or {module}/@latest`,
    );
  const file = rest.slice(at + "/@v/".length);
  const module = parseModulePath(rest.slice(0, at), goHost);
  if (file === "list") return { endpoint: "list", module };
  const m = /^(.+)\.(info|mod|zip)$/.exec(file);
  if (!m?.[1] || !m[2])
    throw notHere(
      `unknown GOPROXY file "@v/${file}": expected list, {version}.info, {version}.mod or {version}.zip`,
    );
  const version = unescapeGoPath(m[1]);
  if (version === undefined)
    throw invalidArgument(`invalid escaped version "${m[1]}": uppercase letters are written as !x`);
  const endpoint = m[2] as "info" | "mod" | "zip";
  return { endpoint, module, version };
}

export function parseModulePath(escaped: string, goHost: string): GoModuleRef {
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

/**
 * A GOPROXY query (`go get m@main`, `m@{label}`, `m@{commit id}`) that `.info` answers with the version it
 * names, or undefined when the text is meant as a version (it starts with v and a digit).
 */
export function goQuery(text: string): string | undefined {
  if (/^v\d/.test(text)) return undefined;
  return isLabelName(text) || isCommitId(text) ? text : undefined;
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
