// GET /{owner}/{module}[?ref=label-or-commit][&before=seq]: README, files, commits, labels, dependencies,
// dependents, and "Use this module" for the chosen commit with every template the caller may read.
import { isRegistryError } from "../../core/errors.js";
import type { Commit, CommitDep, CommitFile, Label, Module } from "../../core/types.js";
import type { WebOptions, WebRequest, WebServices } from "../context.js";
import { nameFrom } from "../context.js";
import { type Html, html, pathSegs, seg } from "../html.js";
import { copyable, layout, time } from "../layout.js";
import { renderMarkdown } from "../markdown.js";
import { bufDeps, type TemplateUse, templateUse } from "../use-module.js";
import { badge } from "./owner.js";

/** Commits per page, newest first; older ones are a link away. */
const commitsPerPage = 50;
const maxReadmeBytes = 256 << 10;

export interface ModuleQuery {
  ref?: string | undefined;
  before?: string | undefined;
}

const decoder = new TextDecoder();

async function readme(
  web: WebServices,
  commit: Commit,
  files: readonly CommitFile[],
): Promise<Html | undefined> {
  const file = files.find((f) => /^readme(\.md)?$/i.test(f.path));
  if (!file || file.size > maxReadmeBytes) return undefined;
  const entry = (await web.modules.readFiles(commit)).find((e) => e.path === file.path);
  return entry ? renderMarkdown(decoder.decode(entry.content)) : undefined;
}

async function uses(web: WebServices, req: WebRequest, opts: WebOptions, mod: Module, commit: Commit) {
  const templates = await web.templates.listTemplates(req.principal);
  const found = await Promise.all(
    templates.map(async (t): Promise<TemplateUse | undefined> => {
      try {
        const versions = await web.templates.listVersions(req.principal, `${t.owner}/${t.name}`);
        const latest = versions.reduce(
          (a, b) => (b.number > a.number ? b : a),
          versions[0] ?? { number: 0, plugins: [], templateId: t.id, createdAt: "" },
        );
        if (latest.number === 0) return undefined;
        const plugins = await web.templates.resolvePlugins(req.principal, t, latest);
        return templateUse(
          {
            baseUrl: req.baseUrl,
            goHost: opts.goHost,
            npmScope: opts.npmScope,
            ...(opts.mavenGroupId ? { mavenGroupId: opts.mavenGroupId } : {}),
            commit,
            needsToken: mod.visibility === "private",
          },
          t,
          latest.number,
          plugins.map((p) => p.version),
        );
      } catch (err) {
        // A template whose plugins the caller may not read cannot generate for them: leave it out.
        if (isRegistryError(err)) return undefined;
        throw err;
      }
    }),
  );
  // Templates that make installable packages first (the archive lines every template has come last), then by name.
  const installs = (u: TemplateUse) => u.commands.filter((c) => c.ecosystem !== "archive").length;
  return found
    .filter((u): u is TemplateUse => u !== undefined)
    .sort((a, b) => installs(b) - installs(a) || (a.template < b.template ? -1 : 1));
}

function fileTree(mod: Module, ref: string, files: readonly CommitFile[]): Html {
  return html`<ul class="plain files">${files.map(
    (f) =>
      html`<li><a href="/${seg(mod.owner)}/${seg(mod.name)}/tree/${seg(ref)}/${pathSegs(f.path)}">${f.path}</a> <span class="muted">${f.size} B</span></li>`,
  )}</ul>`;
}

function commitTable(
  mod: Module,
  commits: readonly Commit[],
  labelsOf: Map<string, string[]>,
  selected: string,
): Html {
  return html`<table class="commits"><thead><tr><th scope="col">Seq</th><th scope="col">Commit</th><th scope="col">Digest</th><th scope="col">Author</th><th scope="col">Time</th><th scope="col">Labels</th></tr></thead><tbody>${commits.map(
    (c) =>
      html`<tr${c.id === selected ? html` aria-current="true" class="current"` : ""}><td>${c.seq}</td><td><a href="/${seg(mod.owner)}/${seg(mod.name)}?ref=${c.id}"><code>${c.id.slice(0, 12)}</code></a></td><td><code title="${c.digest}">${c.digest.slice(0, 19)}</code></td><td>${c.createdBy}</td><td>${time(c.createdAt)}</td><td>${(labelsOf.get(c.id) ?? []).map((l) => html`<span class="badge">${l}</span> `)}</td></tr>`,
  )}</tbody></table>`;
}

function useSection(list: readonly TemplateUse[], commit: Commit, baseUrl: string, chooser: Html): Html {
  return html`<section aria-labelledby="use" class="use-module"><h2 id="use">Use this module</h2>
${chooser}
${list.map(
  (
    u,
    i,
  ) => html`<details class="use" data-template="${u.template}"${i === 0 ? " open" : ""}><summary><strong>${u.template}</strong> <span class="badge">v${u.templateVersion}</span> <code>${u.goVersion}</code></summary>
${u.commands.map((c) => html`<h4>${c.label}</h4>${copyable(c.text, `${u.template} ${c.label}`)}`)}
</details>`,
)}
<details class="use" data-template="buf"><summary><strong>buf</strong> <span class="muted">depend on the schema</span></summary>${copyable(bufDeps(baseUrl, commit), "buf deps")}</details>
</section>`;
}

/** Choose the label or commit the commands are for: a plain GET form, no script. */
function refChooser(
  base: string,
  labels: readonly Label[],
  commits: readonly Commit[],
  selected: Commit,
): Html {
  const byCommit = new Set(labels.map((l) => l.commitId));
  return html`<form class="chooser" action="${base}" method="get"><label for="ref">For</label>
<select id="ref" name="ref">${labels.map(
    (l) =>
      html`<option value="${l.name}"${l.commitId === selected.id ? " selected" : ""}>label ${l.name}</option>`,
  )}${commits
    .filter((c) => !byCommit.has(c.id) || c.id === selected.id)
    .map(
      (c) =>
        html`<option value="${c.id}"${c.id === selected.id && !byCommit.has(c.id) ? " selected" : ""}>seq ${c.seq} · ${c.id.slice(0, 12)}</option>`,
    )}</select> <button type="submit">Show</button></form>
<p class="muted">Commit seq ${selected.seq} <code>${selected.id}</code></p>`;
}

export async function modulePage(
  web: WebServices,
  req: WebRequest,
  opts: WebOptions,
  owner: string,
  name: string,
  query: ModuleQuery,
): Promise<string> {
  const full = nameFrom("module", owner, name);
  const mod = await web.modules.getModule(req.principal, full);
  const before = query.before && /^[1-9][0-9]{0,11}$/.test(query.before) ? Number(query.before) : undefined;
  const [labels, commits, dependents] = await Promise.all([
    web.modules.listLabels(req.principal, full),
    web.modules.listCommits(req.principal, full, {
      limit: commitsPerPage,
      ...(before ? { beforeSeq: before } : {}),
    }),
    web.modules.listDependents(req.principal, full),
  ]);
  const title = `${mod.owner}/${mod.name}`;
  const heading = html`<h1><a href="/${seg(mod.owner)}">${mod.owner}</a>/${mod.name}${badge(mod.visibility)}</h1>${
    req.page.user
      ? html`<p class="manage"><a href="/${seg(mod.owner)}/${seg(mod.name)}/-/settings">Settings</a></p>`
      : ""
  }`;
  if (labels.length === 0) {
    return layout(
      req.page,
      title,
      html`${heading}<p class="muted">No commits yet: push one with <code>protodepot push</code>.</p>`,
    );
  }
  const commit = await web.modules.resolveIn(mod, query.ref);
  const ref = query.ref || mod.defaultLabel;
  const [files, deps, useList] = await Promise.all([
    web.modules.listCommitFiles(commit),
    web.modules.commitDeps(commit),
    uses(web, req, opts, mod, commit),
  ]);
  const readmeBody = await readme(web, commit, files);
  const visibleDeps = await readableDeps(web, req, deps);
  const labelsOf = new Map<string, string[]>();
  for (const l of labels) labelsOf.set(l.commitId, [...(labelsOf.get(l.commitId) ?? []), l.name]);
  const oldest = commits[commits.length - 1];
  const base = `/${seg(mod.owner)}/${seg(mod.name)}`;
  const main = html`${heading}
<p>Showing <strong>${ref}</strong>: commit seq ${commit.seq} <code>${commit.id}</code>, ${time(commit.createdAt)} by ${commit.createdBy}. <a href="${base}/docs/${seg(ref)}">API docs</a> · <a href="${base}/archive/${seg(ref)}.tar.gz">Download sources</a></p>
<div class="cols"><div>
${readmeBody ? html`<section aria-labelledby="readme"><h2 id="readme">README</h2>${readmeBody}</section>` : ""}
<section aria-labelledby="files"><h2 id="files">Files (${files.length})</h2>${fileTree(mod, ref, files)}</section>
<section aria-labelledby="commits"><h2 id="commits">Commits</h2>${commitTable(mod, commits, labelsOf, commit.id)}
${oldest && oldest.seq > 1 && commits.length === commitsPerPage ? html`<p><a href="${base}?ref=${seg(ref)}&amp;before=${oldest.seq}">Older commits</a></p>` : ""}</section>
</div><aside>
${useSection(useList, commit, req.baseUrl, refChooser(base, labels, commits, commit))}
<section aria-labelledby="labels"><h2 id="labels">Labels</h2>${labelList(base, labels, mod.defaultLabel)}</section>
<section aria-labelledby="deps"><h2 id="deps">Dependencies</h2>${
    visibleDeps.length
      ? html`<ul>${visibleDeps.map((d) => html`<li><a href="/${seg(d.owner)}/${seg(d.module)}?ref=${d.commitId}">${d.owner}/${d.module}</a> <span class="muted">seq ${d.seq}${d.direct ? "" : ", transitive"}</span></li>`)}</ul>`
      : html`<p class="muted">None.</p>`
  }</section>
<section aria-labelledby="dependents"><h2 id="dependents">Dependents</h2>${
    dependents.length
      ? html`<ul>${dependents.map((d) => html`<li><a href="/${seg(d.owner)}/${seg(d.name)}">${d.owner}/${d.name}</a></li>`)}</ul>`
      : html`<p class="muted">None.</p>`
  }</section>
</aside></div>
`;
  return layout(req.page, title, main);
}

function labelList(base: string, labels: readonly Label[], defaultLabel: string): Html {
  return html`<ul class="plain">${labels.map(
    (l) =>
      html`<li><a href="${base}?ref=${seg(l.name)}">${l.name}</a>${l.name === defaultLabel ? html` <span class="badge">default</span>` : ""}</li>`,
  )}</ul>`;
}

/** Dependencies the caller may read (a private module's dependencies may be hidden from some of its readers). */
async function readableDeps(
  web: WebServices,
  req: WebRequest,
  deps: readonly CommitDep[],
): Promise<CommitDep[]> {
  const ok = await Promise.all(
    deps.map((d) =>
      web.modules.getModule(req.principal, { owner: d.owner, name: d.module }).then(
        () => true,
        () => false,
      ),
    ),
  );
  return deps.filter((_, i) => ok[i]);
}
