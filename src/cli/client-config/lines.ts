// Line handling shared by the .npmrc and .netrc edits: lines keep their own terminators, so untouched ones stay
// byte for byte what they were.

/** Splits after each "\n"; joining the parts gives the text back exactly. */
export function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/** The line ending new lines get: the file's own ("\r\n" when its first line has one), else "\n". */
export function eolOf(text: string): string {
  const first = text.indexOf("\n");
  return first > 0 && text[first - 1] === "\r" ? "\r\n" : "\n";
}

/** `text` with `line` appended on a line of its own. */
export function appendLine(text: string, line: string, eol = eolOf(text)): string {
  const sep = text === "" || text.endsWith("\n") ? "" : eol;
  return `${text}${sep}${line}${eol}`;
}
