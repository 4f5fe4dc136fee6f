// GET /-/settings/tokens: the signed-in user's tokens: create one (shown once), list them, revoke one; and the
// provider accounts linked to the user (settings-identities.ts).
import type { FormOutcome, WebRequest, WebServices } from "../context.js";
import { html, seg } from "../html.js";
import { copyable, csrfInput, layout, time } from "../layout.js";
import { outcome } from "./form.js";
import { identitiesSection } from "./settings-identities.js";

/** A token just created: its secret is shown on this one answer and never again. */
export interface NewToken {
  id: string;
  secret: string;
}

/** A future instant as its UTC date (relative times read "ago"). */
const day = (iso: string) => html`<time datetime="${iso}" title="${iso}">${iso.slice(0, 10)}</time>`;

export async function tokensPage(
  web: WebServices,
  req: WebRequest,
  result: FormOutcome & { created?: NewToken } = {},
): Promise<string> {
  const { tokens, holder } = await web.users.listTokens(req.principal, "");
  const { created } = result;
  const main = html`<h1>Your tokens</h1>
<p class="muted">Tokens of <strong>${holder}</strong> that still work. The CLI, buf, npm, go, pip and the other clients sign in with one; a web session is a token of its own, deleted when you sign out.</p>
${outcome(result)}
${
  created
    ? html`<section class="new-token" aria-labelledby="new-token"><h2 id="new-token">New token ${created.id}</h2>
<p><strong>Copy it now: it is not shown again.</strong> The server keeps only its hash.</p>
${copyable(created.secret, "new token")}</section>`
    : ""
}
<h2>Create a token</h2>
<form class="stack" action="/-/settings/tokens" method="post">${csrfInput(req.page)}
<label class="block" for="note">Note <span class="muted">(what it is for)</span></label>
<input id="note" name="note" maxlength="256" placeholder="ci on github">
<label class="block" for="expires">Expires at the end of <span class="muted">(UTC; empty: the server's longest lifetime)</span></label>
<input id="expires" name="expires" type="date">
<label class="check"><input type="checkbox" name="scope" value="read"> Read only</label>
<button type="submit">Create token</button>
</form>
<h2>Tokens (${tokens.length})</h2>
${
  tokens.length
    ? html`<table><thead><tr><th scope="col">Id</th><th scope="col">Note</th><th scope="col">Scopes</th><th scope="col">Created</th><th scope="col">Expires</th><th scope="col">Last used</th><th scope="col"><span class="sr-only">Revoke</span></th></tr></thead><tbody>${tokens.map(
        (t) =>
          html`<tr data-token="${t.id}"><td><code>${t.id}</code>${t.id === req.principal.tokenId ? html` <span class="badge">this session</span>` : ""}</td><td>${t.note}</td><td>${t.scopes?.join(", ") ?? "all"}</td><td>${time(t.createdAt)}</td><td>${t.expiresAt ? day(t.expiresAt) : "never"}</td><td>${t.lastUsedAt ? time(t.lastUsedAt) : "never"}</td><td><form class="inline" action="/-/settings/tokens/${seg(t.id)}/revoke" method="post">${csrfInput(req.page)}<button type="submit" aria-label="Revoke token ${t.id}">Revoke</button></form></td></tr>`,
      )}</tbody></table>`
    : html`<p class="muted">No tokens.</p>`
}
${await identitiesSection(web, req)}`;
  return layout(req.page, "Your tokens", main);
}
