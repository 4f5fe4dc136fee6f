// Protobuf syntax highlighting for the file view: one linear tokenizer, every token escaped by `html`.
import { type Html, html, toHtml } from "./html.js";

const keywords = new Set([
  "syntax",
  "edition",
  "package",
  "import",
  "public",
  "weak",
  "option",
  "message",
  "enum",
  "service",
  "rpc",
  "returns",
  "stream",
  "oneof",
  "map",
  "repeated",
  "optional",
  "required",
  "reserved",
  "extensions",
  "extend",
  "to",
  "max",
  "group",
  "true",
  "false",
  "inf",
  "nan",
]);
const scalars = new Set([
  "double",
  "float",
  "int32",
  "int64",
  "uint32",
  "uint64",
  "sint32",
  "sint64",
  "fixed32",
  "fixed64",
  "sfixed32",
  "sfixed64",
  "bool",
  "string",
  "bytes",
]);

// Alternatives in order: line comment, block comment (possibly unterminated), strings, numbers, identifiers.
const token =
  /(\/\/[^\n]*)|(\/\*[\s\S]*?(?:\*\/|$))|("(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?)|(\b\d[\w.]*)|([A-Za-z_][\w]*)/g;

export function highlightProto(source: string): Html {
  const parts: Html[] = [];
  let last = 0;
  for (const m of source.matchAll(token)) {
    const at = m.index;
    if (at > last) parts.push(toHtml(source.slice(last, at)));
    const [text] = m;
    if (m[1] !== undefined || m[2] !== undefined) parts.push(html`<span class="c">${text}</span>`);
    else if (m[3] !== undefined) parts.push(html`<span class="s">${text}</span>`);
    else if (m[4] !== undefined) parts.push(html`<span class="n">${text}</span>`);
    else if (keywords.has(text)) parts.push(html`<span class="k">${text}</span>`);
    else if (scalars.has(text)) parts.push(html`<span class="t">${text}</span>`);
    else parts.push(toHtml(text));
    last = at + text.length;
  }
  if (last < source.length) parts.push(toHtml(source.slice(last)));
  return toHtml(parts);
}
