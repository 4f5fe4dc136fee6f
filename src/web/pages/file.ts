// GET /{owner}/{module}/tree/{ref}/{path}: one pushed file, escaped, .proto files highlighted.
import type { WebRequest, WebServices } from "../context.js";
import { nameFrom, notFound } from "../context.js";
import { highlightProto } from "../highlight.js";
import { html, pathSegs, seg } from "../html.js";
import { layout } from "../layout.js";

const maxShownBytes = 1 << 20;
const decoder = new TextDecoder();

export async function filePage(
  web: WebServices,
  req: WebRequest,
  owner: string,
  name: string,
  ref: string,
  path: string,
): Promise<string> {
  const full = nameFrom("module", owner, name);
  const commit = await web.modules.resolveRef(req.principal, full, ref);
  const listed = (await web.modules.listCommitFiles(commit)).find((f) => f.path === path);
  if (!listed) throw notFound(`module ${owner}/${name} has no file ${path} at ${ref}`);
  const base = `/${seg(owner)}/${seg(name)}`;
  const crumbs = html`<nav aria-label="Breadcrumb"><a href="/${seg(owner)}">${owner}</a> / <a href="${base}?ref=${seg(ref)}">${name}</a> / ${path}</nav>`;
  let body = html`<p class="muted">This file is ${listed.size} bytes: too large to show here. <a href="${base}/archive/${seg(ref)}.tar.gz">Download the sources</a>.</p>`;
  if (listed.size <= maxShownBytes) {
    const entry = (await web.modules.readFiles(commit)).find((e) => e.path === path);
    const text = decoder.decode(entry?.content ?? new Uint8Array());
    body = path.endsWith(".proto")
      ? html`<pre class="source" aria-label="${path}"><code>${highlightProto(text)}</code></pre>`
      : html`<pre class="source" aria-label="${path}"><code>${text}</code></pre>`;
  }
  const main = html`${crumbs}<h1>${path}</h1>
<p class="muted">${ref} · commit seq ${commit.seq} <code>${commit.id}</code> · ${listed.size} B · sha256 <code>${listed.sha256.slice(0, 16)}</code> · <a href="${base}/docs/${seg(ref)}">API docs</a></p>
${body}`;
  return layout(req.page, `${path} · ${owner}/${name}`, main);
}

export const fileHref = (owner: string, name: string, ref: string, path: string) =>
  `/${seg(owner)}/${seg(name)}/tree/${seg(ref)}/${pathSegs(path)}`;
