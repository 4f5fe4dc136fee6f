// GET /{org}/-/bots: an organization's bots (service accounts) and their tokens, for its owners: create a bot, issue
// a token for one (shown once), revoke a token, delete a bot. Bots never sign in; their tokens are all they have.
import { isValidName } from "../../core/names.js";
import type { TokenRecord } from "../../core/types.js";
import { type FormOutcome, notFound, type WebRequest, type WebServices } from "../context.js";
import { html, seg } from "../html.js";
import { copyable, csrfInput, layout, time } from "../layout.js";
import { options, outcome } from "./form.js";
import type { NewToken } from "./settings-tokens.js";

export async function botsPage(
  web: WebServices,
  req: WebRequest,
  org: string,
  result: FormOutcome & { created?: NewToken & { bot: string } } = {},
): Promise<string> {
  if (!isValidName(org)) throw notFound(`organization ${org} does not exist`);
  const bots = await web.bots.list(req.principal, org);
  const tokens = new Map<string, TokenRecord[]>();
  for (const b of bots)
    tokens.set(b.user.name, (await web.users.listTokens(req.principal, b.user.name)).tokens);
  const action = `/${seg(org)}/-/bots`;
  const { created } = result;
  const main = html`<nav aria-label="Breadcrumb"><a href="/${seg(org)}">${org}</a> / <a href="/${seg(org)}/-/members">members</a> / bots</nav>
<h1>Bots of ${org}</h1>
<p class="muted">A bot is a user of this organization for machines (CI, release jobs): it never signs in, its tokens are issued here by the organization's owners, and deleting it revokes them all.</p>
${outcome(result)}
${
  created
    ? html`<section class="new-token" aria-labelledby="new-token"><h2 id="new-token">New token ${created.id} of ${created.bot}</h2>
<p><strong>Copy it now: it is not shown again.</strong> The server keeps only its hash.</p>
${copyable(created.secret, "new token")}</section>`
    : ""
}
${bots.map(
  (b) => html`<section class="bot" data-bot="${b.user.name}" aria-labelledby="bot-${b.user.name}">
<h2 id="bot-${b.user.name}">${b.user.name} <span class="badge">${b.role}</span></h2>
${tokenTable(req, action, b.user.name, tokens.get(b.user.name) ?? [])}
<form class="inline" action="${action}/${seg(b.user.name)}/tokens" method="post">${csrfInput(req.page)}
<label class="sr-only" for="note-${b.user.name}">Note of a new token of ${b.user.name}</label>
<input id="note-${b.user.name}" name="note" maxlength="256" placeholder="what it is for">
<label class="sr-only" for="expires-${b.user.name}">Expires at the end of</label>
<input id="expires-${b.user.name}" name="expires" type="date">
<label class="check"><input type="checkbox" name="scope" value="read"> Read only</label>
<button type="submit" aria-label="Create a token for ${b.user.name}">Create token</button></form>
<form class="inline" action="${action}/${seg(b.user.name)}/delete" method="post">${csrfInput(req.page)}<button type="submit" aria-label="Delete bot ${b.user.name}">Delete bot</button></form>
</section>`,
)}
${bots.length ? "" : html`<p class="muted">No bots.</p>`}
<h2>Create a bot</h2>
<form class="stack" action="${action}" method="post">${csrfInput(req.page)}
<label class="block" for="bot">Name <span class="muted">(an owner name: lowercase letters, digits, -)</span></label>
<input id="bot" name="bot" required maxlength="64" placeholder="${org}-ci">
<label class="block" for="role">Role</label>
<select id="role" name="role">${options(["writer", "reader"], "reader")}</select>
<button type="submit">Create bot</button>
</form>`;
  return layout(req.page, `Bots of ${org}`, main);
}

function tokenTable(req: WebRequest, action: string, bot: string, tokens: readonly TokenRecord[]) {
  if (tokens.length === 0) return html`<p class="muted">No tokens.</p>`;
  return html`<table><thead><tr><th scope="col">Token</th><th scope="col">Note</th><th scope="col">Scopes</th><th scope="col">Created</th><th scope="col">Expires</th><th scope="col">Last used</th><th scope="col"><span class="sr-only">Revoke</span></th></tr></thead><tbody>${tokens.map(
    (t) =>
      html`<tr data-token="${t.id}"><td><code>${t.id}</code></td><td>${t.note}</td><td>${t.scopes?.join(", ") ?? "all"}</td><td>${time(t.createdAt)}</td><td>${t.expiresAt ? t.expiresAt.slice(0, 10) : "never"}</td><td>${t.lastUsedAt ? time(t.lastUsedAt) : "never"}</td><td><form class="inline" action="${action}/${seg(bot)}/tokens/${seg(t.id)}/revoke" method="post">${csrfInput(req.page)}<button type="submit" aria-label="Revoke token ${t.id} of ${bot}">Revoke</button></form></td></tr>`,
  )}</tbody></table>`;
}
