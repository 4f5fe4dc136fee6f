// GET /{org}/-/members: an organization's members and roles, for its members; its owners add, change and remove.
import { isValidName } from "../../core/names.js";
import type { Role } from "../../core/types.js";
import { type FormOutcome, notFound, type WebRequest, type WebServices } from "../context.js";
import { html, seg } from "../html.js";
import { csrfInput, layout } from "../layout.js";
import { options, outcome } from "./form.js";

const roles: readonly Role[] = ["owner", "writer", "reader"];

export async function membersPage(
  web: WebServices,
  req: WebRequest,
  org: string,
  result: FormOutcome = {},
): Promise<string> {
  if (!isValidName(org)) throw notFound(`organization ${org} does not exist`);
  const members = await web.orgs.listMembers(req.principal, org);
  const action = `/${seg(org)}/-/members`;
  const main = html`<nav aria-label="Breadcrumb"><a href="/${seg(org)}">${org}</a> / members</nav>
<h1>Members of ${org}</h1>
<p class="muted">Owners manage the organization (members, visibility, push policies); writers push and create plugins and templates; readers read its private things. Only owners change this list, and manage its <a href="/${seg(org)}/-/bots">bots</a> and <a href="/${seg(org)}/-/webhooks">webhooks</a>.</p>
${outcome(result)}
<table><thead><tr><th scope="col">User</th><th scope="col">Role</th><th scope="col"><span class="sr-only">Remove</span></th></tr></thead><tbody>${members.map(
    (m) =>
      html`<tr data-member="${m.user.name}"><td>${m.user.name}${m.user.botOf ? html` <span class="badge">bot</span>` : ""}</td><td><form class="inline" action="${action}" method="post">${csrfInput(req.page)}<input type="hidden" name="user" value="${m.user.name}"><label class="sr-only" for="role-${m.user.name}">Role of ${m.user.name}</label><select id="role-${m.user.name}" name="role">${options(roles, m.role)}</select> <button type="submit" aria-label="Change role of ${m.user.name}">Change role</button></form></td><td><form class="inline" action="${action}/remove" method="post">${csrfInput(req.page)}<input type="hidden" name="user" value="${m.user.name}"><button type="submit" aria-label="Remove ${m.user.name}">Remove</button></form></td></tr>`,
  )}</tbody></table>
<h2>Add a member</h2>
<form class="stack" action="${action}" method="post">${csrfInput(req.page)}
<label class="block" for="user">User</label>
<input id="user" name="user" required maxlength="64">
<label class="block" for="role">Role</label>
<select id="role" name="role">${options(roles, "reader")}</select>
<button type="submit">Add member</button>
</form>`;
  return layout(req.page, `Members of ${org}`, main);
}
