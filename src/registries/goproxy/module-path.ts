// GOPROXY request paths: which endpoint a path after `/go/` asks for (the Go naming is ecosystems/go/names.ts).
import { invalidArgument } from "../../core/errors.js";
import { isCommitId, isLabelName } from "../../core/names.js";
import { type GoModuleRef, notHere, parseGoModulePath, unescapeGoPath } from "../../ecosystems/go/names.js";

/** What one GOPROXY request asks for, after `/go/`. */
export type GoproxyTarget =
  | { endpoint: "list"; module: GoModuleRef }
  | { endpoint: "latest"; module: GoModuleRef }
  | { endpoint: "info"; module: GoModuleRef; version: string }
  | { endpoint: "mod"; module: GoModuleRef; version: string }
  | { endpoint: "zip"; module: GoModuleRef; version: string };

/** Splits `{escaped module}/@v/{file}` or `{escaped module}/@latest`. */
export function parseGoproxyPath(rest: string, goHost: string): GoproxyTarget {
  if (rest.endsWith("/@latest"))
    return { endpoint: "latest", module: parseGoModulePath(rest.slice(0, -"/@latest".length), goHost) };
  const at = rest.lastIndexOf("/@v/");
  if (at < 0)
    throw notHere(
      `not a GOPROXY request: expected {module}/@v/list, {module}/@v/{version}.info|.mod|.zip or {module}/@latest`,
    );
  const file = rest.slice(at + "/@v/".length);
  const module = parseGoModulePath(rest.slice(0, at), goHost);
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

/**
 * A GOPROXY query (`go get m@main`, `m@{label}`, `m@{commit id}`) that `.info` answers with the version it
 * names, or undefined when the text is meant as a version (it starts with v and a digit).
 */
export function goQuery(text: string): string | undefined {
  if (/^v\d/.test(text)) return undefined;
  return isLabelName(text) || isCommitId(text) ? text : undefined;
}
