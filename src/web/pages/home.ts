// GET /: search modules by name, and the modules pushed most recently.
import type { Commit, Module } from "../../core/types.js";
import type { WebRequest, WebServices } from "../context.js";
import { html, seg } from "../html.js";
import { layout, time } from "../layout.js";

/** How many modules a search or the recent list shows; a bound on the work of one request. */
const shown = 50;
/** How many modules the recent list looks at (newest created first) to find the latest pushes. */
const recentCandidates = 200;

function moduleRow(m: Module, head: Commit | undefined) {
  return html`<tr><td><a href="/${seg(m.owner)}/${seg(m.name)}">${m.owner}/${m.name}</a>${
    m.visibility === "private" ? html` <span class="badge private">private</span>` : ""
  }</td><td>${head ? html`seq ${head.seq}, ${time(head.createdAt)} by ${head.createdBy}` : html`<span class="muted">no commits</span>`}</td></tr>`;
}

export async function homePage(web: WebServices, req: WebRequest, query: string): Promise<string> {
  const all = await web.modules.listModules(req.principal);
  const q = query.trim().toLowerCase().slice(0, 100);
  const candidates = (q ? all.filter((m) => `${m.owner}/${m.name}`.includes(q)) : [...all])
    .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0))
    .slice(0, q ? shown : recentCandidates);
  const heads = await Promise.all(
    candidates.map(async (m) => {
      const [head] = await web.modules.listCommits(req.principal, m, { limit: 1 });
      return { m, head };
    }),
  );
  if (!q) heads.sort((a, b) => ((a.head?.createdAt ?? "") < (b.head?.createdAt ?? "") ? 1 : -1));
  const rows = heads.slice(0, shown);
  const main = html`<h1>${q ? html`Modules matching “${query.trim()}”` : "Recently pushed modules"}</h1>
<form role="search" action="/" method="get"><label for="home-q">Search modules by name</label> <input id="home-q" name="q" type="search" value="${query}"> <button type="submit">Search</button></form>
${
  rows.length === 0
    ? html`<p class="muted">${q ? "No module matches." : "No modules yet: push one with protodepot push."}</p>`
    : html`<table><thead><tr><th scope="col">Module</th><th scope="col">Latest commit</th></tr></thead><tbody>${rows.map((r) => moduleRow(r.m, r.head))}</tbody></table>`
}`;
  return layout(req.page, q ? `Search: ${q}` : "Modules", main);
}
