// HTML built by a tagged template that escapes every interpolation: markup only ever comes from literals in our
// own source or from another `html` value, so no stored name, comment or file can inject markup.

const marked = Symbol("html");

export interface Html {
  readonly [marked]: true;
  readonly text: string;
}

/** Values a page may interpolate: text is escaped, Html is kept, arrays are joined, empty values vanish. */
export type HtmlValue = string | number | Html | undefined | null | false | readonly HtmlValue[];

const entities: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => entities[c] ?? c);
}

export function isHtml(value: unknown): value is Html {
  return typeof value === "object" && value !== null && marked in value;
}

function render(value: HtmlValue): string {
  if (value === undefined || value === null || value === false) return "";
  if (typeof value === "number") return String(value);
  if (typeof value === "string") return escapeHtml(value);
  if (isHtml(value)) return value.text;
  let out = "";
  for (const v of value as readonly HtmlValue[]) out += render(v);
  return out;
}

const wrap = (text: string): Html => ({ [marked]: true, text });

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0] ?? "";
  for (let i = 0; i < values.length; i++) out += render(values[i] as HtmlValue) + (strings[i + 1] ?? "");
  return wrap(out);
}

/** The escaped form of any value, as Html. */
export function toHtml(value: HtmlValue): Html {
  return wrap(render(value));
}

/** A path segment for an href: escaped for the URL here, for the attribute by `html`. */
export function seg(text: string): string {
  return encodeURIComponent(text);
}

/** A slash-separated path (file paths): every segment encoded, the slashes kept. */
export function pathSegs(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}
