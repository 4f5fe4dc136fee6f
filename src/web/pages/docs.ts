// GET /{owner}/{module}/docs/{ref}: API docs of one commit, from its stored image.
import { readApiDocs, renderApiDocs } from "../api-docs.js";
import type { WebRequest, WebServices } from "../context.js";
import { nameFrom } from "../context.js";
import { html, seg } from "../html.js";
import { layout } from "../layout.js";

export async function docsPage(
  web: WebServices,
  req: WebRequest,
  owner: string,
  name: string,
  ref: string,
): Promise<string> {
  const full = nameFrom("module", owner, name);
  const commit = await web.modules.resolveRef(req.principal, full, ref);
  const [image, files] = await Promise.all([
    web.modules.readImage(commit),
    web.modules.listCommitFiles(commit),
  ]);
  const docs = readApiDocs(
    image,
    files.map((f) => f.path).filter((p) => p.endsWith(".proto")),
  );
  const base = `/${seg(owner)}/${seg(name)}`;
  const main = html`<nav aria-label="Breadcrumb"><a href="/${seg(owner)}">${owner}</a> / <a href="${base}?ref=${seg(ref)}">${name}</a> / docs</nav>
<h1>API of ${owner}/${name}</h1>
<p class="muted">${ref} · commit seq ${commit.seq} <code>${commit.id}</code></p>
${renderApiDocs(docs)}`;
  return layout(req.page, `API · ${owner}/${name}`, main);
}
