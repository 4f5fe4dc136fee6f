// `machine HOST login USER password TOKEN` entries in a .netrc, edited in place.
//
// Who reads them: the go command (1.19 here, cmd/go/internal/auth) matches `machine` against the request URL's
// host name WITHOUT the port, and sends the credentials over https only; the buf CLI matches the host WITH the
// port. So a server on a non-default port gets two entries, one per reader.
import { appendLine, eolOf, splitLines } from "./lines.js";

export interface NetrcEntry {
  machine: string;
  login: string;
  password: string;
}

interface Token {
  text: string;
  start: number;
  end: number;
}

/** The machine names go and buf look up for a server URL: host name (brackets of IPv6 removed), and host:port. */
export function netrcMachines(url: string): string[] {
  const u = new URL(url);
  const hostname = u.hostname.replace(/^\[(.*)\]$/, "$1");
  return u.port === "" ? [hostname] : [hostname, u.host];
}

const plain = /^[^\s"#]+$/;

/** netrc has no quoting that every reader understands: refuse values that would need it. */
function checkValue(what: string, value: string): void {
  if (!plain.test(value)) {
    throw new Error(
      `cannot write ${what} "${value}" to .netrc: it must be non-empty without spaces, quotes or '#'`,
    );
  }
}

/**
 * Tokens with their offsets, as go reads them: whitespace-separated fields; after a line with `macdef`, the macro
 * body up to the next empty line is no tokens. Lines starting with `#` are comments to curl and others, so they
 * are no tokens either (and are never edited).
 */
function tokenize(text: string): { tokens: Token[]; inMacro: boolean } {
  const tokens: Token[] = [];
  let inMacro = false;
  let offset = 0;
  for (const line of splitLines(text)) {
    const body = line.endsWith("\n") ? line.slice(0, -1) : line;
    if (inMacro) {
      if (body === "") inMacro = false;
    } else if (!body.trimStart().startsWith("#")) {
      for (const m of body.matchAll(/\S+/g)) {
        const start = offset + (m.index ?? 0);
        tokens.push({ text: m[0], start, end: start + m[0].length });
        if (m[0] === "macdef") inMacro = true;
      }
    }
    offset += line.length;
  }
  return { tokens, inMacro };
}

interface Span {
  machine: string | undefined;
  keyword: string;
  start: number;
  end: number;
}

/**
 * Entries as spans of text, from a `machine`, `default` or `macdef` keyword to the end of its last token. Tokens
 * pair up as keyword and value (`default` has none), so a value spelled like a keyword stays a value.
 */
function entries(tokens: readonly Token[]): Span[] {
  const spans: Span[] = [];
  for (let i = 0; i < tokens.length; ) {
    const keyword = tokens[i] as Token;
    const value = keyword.text === "default" ? undefined : tokens[i + 1];
    const end = (value ?? keyword).end;
    if (keyword.text === "machine" || keyword.text === "default" || keyword.text === "macdef") {
      spans.push({
        keyword: keyword.text,
        machine: keyword.text === "machine" ? value?.text : undefined,
        start: keyword.start,
        end,
      });
    } else {
      const open = spans.at(-1);
      if (open) open.end = end;
    }
    i += value ? 2 : 1;
  }
  return spans;
}

/** Widens a span to its whole line(s) when nothing else shares them, so removing it leaves no blank line. */
function wholeLines(text: string, start: number, end: number): [number, number] {
  const lineStart = text.lastIndexOf("\n", start - 1) + 1;
  const newline = text.indexOf("\n", end);
  const lineEnd = newline < 0 ? text.length : newline + 1;
  const before = text.slice(lineStart, start);
  const after = text.slice(end, lineEnd);
  return before.trim() === "" && after.trim() === "" ? [lineStart, lineEnd] : [start, end];
}

/**
 * Sets the entry for `entry.machine`: the first entry for that machine is replaced by a one-line entry, later
 * ones are removed, and a missing one is added before any `default` entry (which must come last) or at the end.
 * Every other byte stays as it was.
 */
export function upsertNetrc(text: string, entry: NetrcEntry): string {
  checkValue("machine", entry.machine);
  checkValue("login", entry.login);
  checkValue("password", entry.password);
  const line = `machine ${entry.machine} login ${entry.login} password ${entry.password}`;
  const { tokens, inMacro } = tokenize(text);
  const spans = entries(tokens);
  const matching = spans.filter((s) => s.keyword === "machine" && s.machine === entry.machine);
  let out = text;
  // Edit from the end so earlier offsets stay valid.
  for (const span of [...matching].reverse()) {
    if (span === matching[0]) {
      out = `${out.slice(0, span.start)}${line}${out.slice(span.end)}`;
    } else {
      const [start, end] = wholeLines(out, span.start, span.end);
      out = `${out.slice(0, start)}${out.slice(end)}`;
    }
  }
  if (matching.length > 0) return out;
  const eol = eolOf(text);
  const fallback = spans.find((s) => s.keyword === "default");
  if (fallback) {
    const lineStart = text.lastIndexOf("\n", fallback.start - 1) + 1;
    const [at, insert] =
      text.slice(lineStart, fallback.start).trim() === ""
        ? [lineStart, `${line}${eol}`]
        : [fallback.start, `${line} `];
    return `${text.slice(0, at)}${insert}${text.slice(at)}`;
  }
  // A file ending inside a macro body would swallow the new entry: close the body with an empty line first (a
  // bare "\n" even in a CRLF file: go ends a macro only at a line that is empty before its "\n").
  const closed = inMacro ? appendLine(text, "", "\n") : text;
  return appendLine(closed, line, eol);
}
