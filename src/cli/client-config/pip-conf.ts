// pip.conf's `[global] extra-index-url` for a protodepot server, with the token as the URL's password (pip sends
// it as Basic auth). An extra index, not `index-url`: protobuf and every other dependency still come from PyPI,
// which our index answers 404 for.
import { appendLine, eolOf, splitLines } from "./lines.js";

/** `{scheme}://__token__:{token}@{host}/pypi/simple/`. */
export function pipIndexUrl(remote: string, token: string): string {
  const url = new URL("/pypi/simple/", remote);
  url.username = "__token__";
  url.password = token;
  return url.toString();
}

const keyOf = (line: string) => /^\s*([A-Za-z0-9_-]+)\s*=/.exec(line)?.[1]?.toLowerCase().replace(/_/g, "-");
const sectionOf = (line: string) => /^\s*\[([^\]]+)\]/.exec(line)?.[1]?.trim();

/**
 * Sets `extra-index-url` in `[global]` to this server's index: a line that already names this server's index is
 * replaced; another extra index stays, with ours added after it on the same key (pip splits the value on
 * whitespace). Every other line stays byte for byte.
 */
export function upsertPipConf(text: string, indexUrl: string): string {
  const eol = eolOf(text);
  const host = new URL(indexUrl).host;
  const lines = splitLines(text);
  let section: string | undefined;
  let globalAt = -1;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    const name = sectionOf(line);
    if (name !== undefined) {
      section = name;
      if (name === "global") globalAt = i;
      continue;
    }
    if (section !== "global" || keyOf(line) !== "extra-index-url") continue;
    const ending = /\r?\n$/.exec(line)?.[0] ?? "";
    const value = line.slice(line.indexOf("=") + 1).trim();
    const others = value
      .split(/\s+/)
      .filter(
        (u) => u !== "" && !(u.includes(`@${host}/pypi/simple`) || u.includes(`//${host}/pypi/simple`)),
      );
    lines[i] = `extra-index-url = ${[...others, indexUrl].join(" ")}${ending}`;
    return lines.join("");
  }
  const entry = `extra-index-url = ${indexUrl}${eol}`;
  if (globalAt < 0) return appendLine(appendLine(text, "[global]", eol), entry.trimEnd(), eol);
  lines.splice(globalAt + 1, 0, entry);
  return lines.join("");
}

/** Where pip reads its user configuration: $PIP_CONFIG_FILE, else $XDG_CONFIG_HOME/pip/pip.conf. */
export function defaultPipConf(env: NodeJS.ProcessEnv, home: string): string {
  if (env.PIP_CONFIG_FILE && env.PIP_CONFIG_FILE !== "/dev/null") return env.PIP_CONFIG_FILE;
  return `${env.XDG_CONFIG_HOME || `${home}/.config`}/pip/pip.conf`;
}
