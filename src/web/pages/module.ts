// GET /{owner}/{module}[?ref=label-or-commit][&before=seq][&use=npm][&template=owner/name]: README, files, commits, labels, dependencies,
// dependents, and "Use this module" for the chosen commit: one ecosystem (&use=), one template (&template=).
import { deprecationNotice } from "../../core/deprecation.js";
import { isRegistryError } from "../../core/errors.js";
import type { Commit, CommitDep, CommitFile, Label, Module, TemplateVersion } from "../../core/types.js";
import { builtinTemplateOwner } from "../../services/builtins.js";
import type { WebOptions, WebRequest, WebServices } from "../context.js";
import { nameFrom } from "../context.js";
import { type Html, html, pathSegs, seg } from "../html.js";
import { copyable, deprecationBanner, layout, time } from "../layout.js";
import { renderMarkdown } from "../markdown.js";
import {
  isUseEcosystem,
  offeredTemplates,
  type TemplateChoice,
  templateEcosystems,
  type UseEcosystem,
  type UseInput,
  useEcosystems,
  useSteps,
} from "../use-module.js";
import { badge } from "./owner.js";

/** Commits per page, newest first; older ones are a link away. */
const commitsPerPage = 50;
const maxReadmeBytes = 256 << 10;

export interface ModuleQuery {
  ref?: string | undefined;
  before?: string | undefined;
  /** The ecosystem of "Use this module" (useEcosystems' ids). */
  use?: string | undefined;
  /** Its template, `owner/name`. */
  template?: string | undefined;
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

/** Every template the caller may read, with its latest version and what it can make for this commit. */
async function choices(
  web: WebServices,
  req: WebRequest,
  input: UseInput,
  commit: Commit,
): Promise<TemplateChoice[]> {
  const templates = await web.templates.listTemplates(req.principal);
  const found = await Promise.all(
    templates.map(async (template): Promise<TemplateChoice | undefined> => {
      try {
        const versions = await web.templates.listVersions(
          req.principal,
          `${template.owner}/${template.name}`,
        );
        const latest = versions.reduce<TemplateVersion | undefined>(
          (a, b) => (a === undefined || b.number > a.number ? b : a),
          undefined,
        );
        if (!latest) return undefined;
        const plugins = (await web.templates.resolvePlugins(req.principal, template, latest)).map(
          (p) => p.version,
        );
        return {
          template,
          version: latest.number,
          plugins,
          builtin: template.owner === builtinTemplateOwner,
          failed: web.outcomes?.failed(template.id, latest.number, commit.id) ?? false,
          ecosystems: templateEcosystems(input, template, plugins),
        };
      } catch (err) {
        // A template whose plugins the caller may not read cannot generate for them: leave it out.
        if (isRegistryError(err)) return undefined;
        throw err;
      }
    }),
  );
  return found.filter((c): c is TemplateChoice => c !== undefined);
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

/**
 * "Use this module" for one ecosystem and one template, both chosen by query parameters (plain links and a GET
 * form, no script): the other ecosystems are links, and only the chosen one's steps are on the page.
 */
function useSection(
  input: UseInput,
  all: readonly TemplateChoice[],
  query: ModuleQuery,
  base: string,
  chooser: Html,
): Html {
  const ref = query.ref ? `ref=${encodeURIComponent(query.ref)}&` : "";
  const offered = (e: UseEcosystem) => (e === "buf" ? [] : offeredTemplates(all, e));
  const available = (e: UseEcosystem) => e === "buf" || offered(e).length > 0;
  const chosen: UseEcosystem = isUseEcosystem(query.use)
    ? query.use
    : (useEcosystems.find((e) => e.id !== "buf" && available(e.id))?.id ?? "buf");
  const list = offered(chosen);
  const choice = list.find((c) => `${c.template.owner}/${c.template.name}` === query.template) ?? list[0];
  const steps = useSteps(input, chosen, choice);
  const label = useEcosystems.find((e) => e.id === chosen)?.label ?? chosen;
  const tabs = html`<nav class="ecosystems" aria-label="Ecosystem"><ul>${useEcosystems.map(
    (e) =>
      html`<li><a href="${base}?${ref}use=${e.id}#use"${e.id === chosen ? html` aria-current="page"` : ""}${available(e.id) ? "" : html` class="muted" title="no template makes this for this module"`}>${e.label}</a></li>`,
  )}</ul></nav>`;
  const picker = choice
    ? html`<form class="chooser" action="${base}#use" method="get">${query.ref ? html`<input type="hidden" name="ref" value="${query.ref}">` : ""}<input type="hidden" name="use" value="${chosen}"><label for="template">Template</label>
<select id="template" name="template">${list.map((c) => {
        const name = `${c.template.owner}/${c.template.name}`;
        return html`<option value="${name}"${c === choice ? " selected" : ""}>${name} v${c.version}${c.builtin ? " (built-in)" : ""}</option>`;
      })}</select> <button type="submit">Show</button></form>`
    : "";
  const body =
    chosen !== "buf" && !choice
      ? html`<p class="muted">No template here can make ${label} packages of this module.</p>`
      : html`<ol class="steps">${steps.map(
          (s) =>
            html`<li><h3>${s.title}</h3>${copyable(s.text, s.title)}${s.note ? html`<p class="note">${s.note}</p>` : ""}</li>`,
        )}</ol>`;
  return html`<section aria-labelledby="use" class="use-module" data-ecosystem="${chosen}"${choice ? html` data-template="${choice.template.owner}/${choice.template.name}"` : ""}><h2 id="use">Use this module</h2>
${chooser}
${tabs}
${picker}
${body}
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
  }${deprecationBanner(
    deprecationNotice([{ kind: "module", owner: mod.owner, name: mod.name, deprecation: mod.deprecation }]),
  )}`;
  if (labels.length === 0) {
    return layout(
      req.page,
      title,
      html`${heading}<p class="muted">No commits yet: push one with <code>protodepot push</code>.</p>`,
    );
  }
  const commit = await web.modules.resolveIn(mod, query.ref);
  const ref = query.ref || mod.defaultLabel;
  const input: UseInput = {
    baseUrl: req.baseUrl,
    goHost: opts.goHost,
    npmScope: opts.npmScope,
    ...(opts.mavenGroupId ? { mavenGroupId: opts.mavenGroupId } : {}),
    commit,
    isPrivate: mod.visibility === "private",
  };
  const [files, deps, templateChoices] = await Promise.all([
    web.modules.listCommitFiles(commit),
    web.modules.commitDeps(commit),
    choices(web, req, input, commit),
  ]);
  const readmeBody = await readme(web, commit, files);
  const visibleDeps = await readableDeps(web, req, deps);
  const labelsOf = new Map<string, string[]>();
  for (const l of labels) labelsOf.set(l.commitId, [...(labelsOf.get(l.commitId) ?? []), l.name]);
  const oldest = commits[commits.length - 1];
  const base = `/${seg(mod.owner)}/${seg(mod.name)}`;
  const main = html`${heading}
<p>Showing <strong>${ref}</strong>: commit seq ${commit.seq} <code>${commit.id}</code>, ${time(commit.createdAt)} by ${commit.createdBy}. <a href="${base}/docs/${seg(ref)}">API docs</a> · <a href="${base}/archive/${seg(ref)}.tar.gz">Download sources</a></p>
${useSection(input, templateChoices, query, base, refChooser(base, labels, commits, commit))}
<div class="cols"><div>
${readmeBody ? html`<section aria-labelledby="readme"><h2 id="readme">README</h2>${readmeBody}</section>` : ""}
<section aria-labelledby="files"><h2 id="files">Files (${files.length})</h2>${fileTree(mod, ref, files)}</section>
<section aria-labelledby="commits"><h2 id="commits">Commits</h2>${commitTable(mod, commits, labelsOf, commit.id)}
${oldest && oldest.seq > 1 && commits.length === commitsPerPage ? html`<p><a href="${base}?ref=${seg(ref)}&amp;before=${oldest.seq}">Older commits</a></p>` : ""}</section>
</div><aside>
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
