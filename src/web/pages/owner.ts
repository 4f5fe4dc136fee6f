// GET /{owner}: the owner's modules, plugins and templates the caller may read; an organization's members for its members.
import { isRegistryError } from "../../core/errors.js";
import { isValidName } from "../../core/names.js";
import type { Member, Visibility } from "../../core/types.js";
import { notFound, type WebRequest, type WebServices } from "../context.js";
import { type Html, html, seg } from "../html.js";
import { layout } from "../layout.js";

export const badge = (v: Visibility): Html =>
  v === "private" ? html` <span class="badge private">private</span>` : html``;

export async function ownerPage(web: WebServices, req: WebRequest, owner: string): Promise<string> {
  if (!isValidName(owner)) throw notFound(`owner ${owner} does not exist`);
  const [modules, plugins, templates] = await Promise.all([
    web.modules.listModules(req.principal, owner),
    web.plugins.listPlugins(req.principal, owner),
    web.templates.listTemplates(req.principal, owner),
  ]);
  const members: Member[] | undefined = await web.orgs
    .listMembers(req.principal, owner)
    .catch((err: unknown) => {
      // Not an organization, or the caller is not one of its members: no members section.
      if (isRegistryError(err)) return undefined;
      throw err;
    });
  const list = (items: Html[], empty: string) =>
    items.length
      ? html`<ul>${items.map((i) => html`<li>${i}</li>`)}</ul>`
      : html`<p class="muted">${empty}</p>`;
  const main = html`<h1>${owner}</h1>
<h2>Modules</h2>
${list(
  modules.map(
    (m) => html`<a href="/${seg(m.owner)}/${seg(m.name)}">${m.owner}/${m.name}</a>${badge(m.visibility)}`,
  ),
  "No modules.",
)}
<h2>Plugins</h2>
${list(
  plugins.map(
    (p) =>
      html`<a href="/${seg(p.owner)}/plugins/${seg(p.name)}">${p.owner}/${p.name}</a>${badge(p.visibility)}`,
  ),
  "No plugins.",
)}
<h2>Templates</h2>
${list(
  templates.map(
    (t) =>
      html`<a href="/${seg(t.owner)}/templates/${seg(t.name)}">${t.owner}/${t.name}</a>${badge(t.visibility)}`,
  ),
  "No templates.",
)}
${
  members
    ? html`<h2>Members</h2><p><a href="/${seg(owner)}/-/members">Manage members</a></p><table><thead><tr><th scope="col">User</th><th scope="col">Role</th></tr></thead><tbody>${members.map(
        (m) => html`<tr><td>${m.user.name}</td><td>${m.role}</td></tr>`,
      )}</tbody></table>`
    : ""
}`;
  return layout(req.page, owner, main);
}
