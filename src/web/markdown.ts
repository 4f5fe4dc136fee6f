// A README renderer for the few Markdown forms READMEs use: headings, paragraphs, lists, fenced code, inline
// code, emphasis and links. Everything is escaped first; links keep only http(s), relative and fragment targets.
import { type Html, html, toHtml } from "./html.js";

const safeHref = /^(https?:\/\/|\/|\.{0,2}\/|#|[\w-]+(\.[\w-]+)*(\/|$|#))/i;

function inline(text: string): Html {
  const parts: Html[] = [];
  const pattern = /`([^`]+)`|\*\*([^*]+)\*\*|\*([^*]+)\*|\[([^\]]+)\]\(([^)\s]+)\)/g;
  let last = 0;
  for (const m of text.matchAll(pattern)) {
    if (m.index > last) parts.push(toHtml(text.slice(last, m.index)));
    if (m[1] !== undefined) parts.push(html`<code>${m[1]}</code>`);
    else if (m[2] !== undefined) parts.push(html`<strong>${m[2]}</strong>`);
    else if (m[3] !== undefined) parts.push(html`<em>${m[3]}</em>`);
    else if (m[4] !== undefined && m[5] !== undefined) {
      parts.push(safeHref.test(m[5]) ? html`<a href="${m[5]}">${m[4]}</a>` : toHtml(m[4]));
    }
    last = m.index + m[0].length;
  }
  if (last < text.length) parts.push(toHtml(text.slice(last)));
  return toHtml(parts);
}

export function renderMarkdown(source: string): Html {
  const out: Html[] = [];
  const lines = source.replace(/\r\n?/g, "\n").split("\n");
  let paragraph: string[] = [];
  let list: string[] = [];
  const flush = () => {
    if (paragraph.length) out.push(html`<p>${inline(paragraph.join(" "))}</p>`);
    if (list.length) out.push(html`<ul>${list.map((item) => html`<li>${inline(item)}</li>`)}</ul>`);
    paragraph = [];
    list = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    const fence = /^(```|~~~)/.exec(line);
    if (fence) {
      flush();
      const code: string[] = [];
      for (i++; i < lines.length && !(lines[i] ?? "").startsWith(fence[1] ?? "```"); i++)
        code.push(lines[i] ?? "");
      out.push(html`<pre><code>${code.join("\n")}</code></pre>`);
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    const item = /^\s*[-*+]\s+(.*)$/.exec(line);
    if (heading) {
      flush();
      // Page headings are h1/h2; README headings start below them.
      const level = Math.min(6, (heading[1]?.length ?? 1) + 2);
      out.push(toHtml([html`<h${level}>`, inline(heading[2] ?? ""), html`</h${level}>`]));
    } else if (item) {
      if (paragraph.length) flush();
      list.push(item[1] ?? "");
    } else if (line.trim() === "") {
      flush();
    } else if (list.length && /^\s+/.test(line)) {
      list[list.length - 1] += ` ${line.trim()}`;
    } else {
      if (list.length) flush();
      paragraph.push(line.trim());
    }
  }
  flush();
  return toHtml(out);
}
