// GET /{owner}/templates/{name} and /{owner}/plugins/{name}: what a template runs (and a form for its next
// version), a plugin's versions.
import type { Template } from "../../core/types.js";
import type { FormOutcome, WebRequest, WebServices } from "../context.js";
import { nameFrom } from "../context.js";
import { type Html, html, seg } from "../html.js";
import { copyable, csrfInput, layout, time } from "../layout.js";
import { options, outcome } from "./form.js";
import { badge } from "./owner.js";

export async function templatePage(
  web: WebServices,
  req: WebRequest,
  owner: string,
  name: string,
  result: FormOutcome = {},
): Promise<string> {
  const full = nameFrom("template", owner, name);
  const template = await web.templates.getTemplate(req.principal, full);
  await web.templates.checkPluginsReadable(req.principal, template);
  // The list may be the metadata cache's frozen array: sort a copy.
  const versions = (await web.templates.listVersions(req.principal, `${owner}/${name}`)).toSorted(
    (a, b) => b.number - a.number,
  );
  const main = html`<nav aria-label="Breadcrumb"><a href="/${seg(owner)}">${owner}</a> / templates</nav>
<h1>${owner}/${name}${badge(template.visibility)}</h1>
${outcome(result)}
<h2>Plugins</h2>
<table><thead><tr><th scope="col">#</th><th scope="col">Plugin</th><th scope="col">Parameter</th></tr></thead><tbody>${template.plugins.map(
    (p, i) =>
      html`<tr><td>${i + 1}</td><td><a href="/${seg(p.owner)}/plugins/${seg(p.name)}">${p.owner}/${p.name}</a></td><td><code>${p.parameter}</code></td></tr>`,
  )}</tbody></table>
<h2>Versions</h2>
${
  versions.length
    ? html`<table><thead><tr><th scope="col">Version</th><th scope="col">Pinned plugins</th><th scope="col">Created</th></tr></thead><tbody>${versions.map(
        (v) =>
          html`<tr><td>v${v.number}</td><td>${v.plugins.map((p, i) => html`${i ? ", " : ""}<code>${p.owner}/${p.name}:${p.version}</code>`)}</td><td>${time(v.createdAt)}</td></tr>`,
      )}</tbody></table>`
    : html`<p class="muted">No versions yet.</p>`
}
${req.page.session ? await versionForm(web, req, template) : ""}`;
  return layout(req.page, `${owner}/${name}`, main);
}

/** The next version's pins: one version of each plugin, the newest preselected. Writers of the owner may send it. */
async function versionForm(web: WebServices, req: WebRequest, template: Template): Promise<Html> {
  const choices = await Promise.all(
    template.plugins.map(async (p) =>
      (await web.plugins.listPluginVersions(req.principal, `${p.owner}/${p.name}`))
        .map((v) => v.version)
        .toReversed(),
    ),
  );
  return html`<h2 id="new-version">Create a version</h2>
<form class="stack" action="/${seg(template.owner)}/templates/${seg(template.name)}/versions" method="post">${csrfInput(req.page)}
${template.plugins.map(
  (p, i) =>
    html`<label class="block" for="pin-${i}">${i + 1}. ${p.owner}/${p.name}</label><select id="pin-${i}" name="pin${i}">${options(choices[i] ?? [], choices[i]?.[0] ?? "")}</select>`,
)}
<button type="submit">Create version</button>
</form>`;
}

export async function pluginPage(
  web: WebServices,
  req: WebRequest,
  owner: string,
  name: string,
): Promise<string> {
  const full = nameFrom("plugin", owner, name);
  const plugin = await web.plugins.getPlugin(req.principal, full);
  const versions = (await web.plugins.listPluginVersions(req.principal, `${owner}/${name}`)).toReversed();
  const main = html`<nav aria-label="Breadcrumb"><a href="/${seg(owner)}">${owner}</a> / plugins</nav>
<h1>${owner}/${name}${badge(plugin.visibility)}</h1>
<h2>Versions</h2>
${
  versions.length
    ? html`<table><thead><tr><th scope="col">Version</th><th scope="col">Source</th><th scope="col">Runtime libraries</th><th scope="col">Created</th></tr></thead><tbody>${versions.map(
        (v) =>
          html`<tr><td>${v.version}</td><td>${v.source.kind === "oci" ? html`image <code title="${v.source.digest}">${v.source.digest.slice(0, 19)}</code>` : v.source.kind === "protoc" ? html`protoc ${v.source.version} <code>--${v.source.generator}_out</code>` : "host command"}</td><td>${[
            ...(v.runtimeLibraries.go ?? []).map(
              (l) => html`<div><code>go ${l.module}@${l.version}</code></div>`,
            ),
            ...(v.runtimeLibraries.npm ?? []).map(
              (l) => html`<div><code>npm ${l.package}@${l.version}</code></div>`,
            ),
            ...(v.runtimeLibraries.python ?? []).map(
              (l) => html`<div><code>pip ${l.package}${l.version}</code></div>`,
            ),
            ...(v.runtimeLibraries.maven ?? []).map(
              (l) => html`<div><code>maven ${l.groupId}:${l.artifactId}:${l.version}</code></div>`,
            ),
            ...(v.runtimeLibraries.ruby ?? []).map(
              (l) => html`<div><code>gem ${l.package} ${l.version}</code></div>`,
            ),
            ...(v.runtimeLibraries.rust ?? []).map(
              (l) => html`<div><code>cargo ${l.crate} ${l.version}</code></div>`,
            ),
          ]}</td><td>${time(v.createdAt)}</td></tr>`,
      )}</tbody></table>`
    : html`<p class="muted">No versions yet.</p>`
}
<h2>Push a new version</h2>
<p>Push an image tagged with the version to this registry's <code>/v2/</code> (the tag becomes an immutable version; runtime libraries come from the image labels), or a binary without container tooling:</p>
${copyable(`skopeo copy --dest-creds you:$PROTODEPOT_TOKEN oci:./layout:vX.Y.Z docker://${new URL(req.baseUrl).host}/${owner}/${name}:vX.Y.Z`, "skopeo push command")}
${copyable(`protodepot plugin push ${owner}/${name}:vX.Y.Z --binary ./protoc-gen-${name}`, "protodepot plugin push command")}`;
  return layout(req.page, `${owner}/${name}`, main);
}
