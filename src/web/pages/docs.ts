// GET /{owner}/{module}/docs/{ref}: API docs of one commit, from its stored image.
import { createCache } from "../../core/cache.js";
import type { Commit } from "../../core/types.js";
import { readApiDocs, renderApiDocs } from "../api-docs.js";
import type { WebRequest, WebServices } from "../context.js";
import { nameFrom } from "../context.js";
import { type Html, html, seg } from "../html.js";
import { layout } from "../layout.js";

// A commit never changes, nor do the commits it pins, so neither do its docs: rendered once per commit (and set
// of readable dependencies), served after the caller's access is checked. Bounded by the size of the HTML.
const rendered = createCache<Html>({ bound: { maxSize: 32 << 20, sizeOf: (h) => h.text.length } });

/**
 * The docs of a commit, types of its dependency modules linked to their docs. Only dependencies the caller may
 * read are linked, so the cache key names them: one caller never gets links made for another.
 */
async function docsOf(web: WebServices, req: WebRequest, commit: Commit): Promise<Html> {
  const deps = await web.modules.commitDeps(commit);
  const readable = (
    await Promise.all(
      deps.map((d) =>
        web.modules.getModule(req.principal, { owner: d.owner, name: d.module }).then(
          () => d,
          () => undefined,
        ),
      ),
    )
  ).filter((d) => d !== undefined);
  const key = [commit.id, ...readable.map((d) => d.commitId)].join(" ");
  const cached = rendered.get(key);
  if (cached) return cached;
  const [image, files, depFiles] = await Promise.all([
    web.modules.readImage(commit),
    web.modules.listCommitFiles(commit),
    Promise.all(
      readable.map(async (d) => {
        const depCommit = await web.modules.resolveRef(
          req.principal,
          { owner: d.owner, name: d.module },
          d.commitId,
        );
        return { d, files: await web.modules.listCommitFiles(depCommit) };
      }),
    ),
  ]);
  const external = new Map<string, string>();
  for (const { d, files: list } of depFiles) {
    for (const f of list) external.set(f.path, `/${seg(d.owner)}/${seg(d.module)}/docs/${d.commitId}`);
  }
  const paths = files.map((f) => f.path).filter((p) => p.endsWith(".proto"));
  const body = renderApiDocs(readApiDocs(image, paths, external));
  rendered.set(key, body);
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
  const docs = await docsOf(web, req, commit);
  const base = `/${seg(owner)}/${seg(name)}`;
  const main = html`<nav aria-label="Breadcrumb"><a href="/${seg(owner)}">${owner}</a> / <a href="${base}?ref=${seg(ref)}">${name}</a> / docs</nav>
<h1>API of ${owner}/${name}</h1>
<p class="muted">${ref} · commit seq ${commit.seq} <code>${commit.id}</code></p>
${docs}`;
  return layout(req.page, `API · ${owner}/${name}`, main);
}
