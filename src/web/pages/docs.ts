// GET /{owner}/{module}/docs/{ref}: API docs of one commit, from its stored image.
import { LRUCache } from "lru-cache";
import type { Commit } from "../../core/types.js";
import { readApiDocs, renderApiDocs } from "../api-docs.js";
import type { WebRequest, WebServices } from "../context.js";
import { nameFrom } from "../context.js";
import { type Html, html, seg } from "../html.js";
import { layout } from "../layout.js";

// A commit never changes, so neither do its docs: rendered once per commit and served to whoever may read the
// commit (the caller's access is checked before the cache is asked). Bounded by the size of the HTML.
const rendered = new LRUCache<string, Html>({
  maxSize: 32 << 20,
  sizeCalculation: (h) => Math.max(1, h.text.length),
});

async function docsOf(web: WebServices, commit: Commit): Promise<Html> {
  const cached = rendered.get(commit.id);
  if (cached) return cached;
  const [image, files] = await Promise.all([
    web.modules.readImage(commit),
    web.modules.listCommitFiles(commit),
  ]);
  const paths = files.map((f) => f.path).filter((p) => p.endsWith(".proto"));
  const body = renderApiDocs(readApiDocs(image, paths));
  rendered.set(commit.id, body);
  return body;
}

export async function docsPage(
  web: WebServices,
  req: WebRequest,
  owner: string,
  name: string,
  ref: string,
): Promise<string> {
  const full = nameFrom("module", owner, name);
  const commit = await web.modules.resolveRef(req.principal, full, ref);
  const docs = await docsOf(web, commit);
  const base = `/${seg(owner)}/${seg(name)}`;
  const main = html`<nav aria-label="Breadcrumb"><a href="/${seg(owner)}">${owner}</a> / <a href="${base}?ref=${seg(ref)}">${name}</a> / docs</nav>
<h1>API of ${owner}/${name}</h1>
<p class="muted">${ref} · commit seq ${commit.seq} <code>${commit.id}</code></p>
${docs}`;
  return layout(req.page, `API · ${owner}/${name}`, main);
}
