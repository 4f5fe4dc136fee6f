// The settings page's "Linked sign-ins": the provider accounts that sign in as the user (docs/sso.md), each with
// a form to unlink it (refused, on the page, for the last one while signing in with a token is off). Left out for
// a user with none.
import type { WebRequest, WebServices } from "../context.js";
import { type Html, html } from "../html.js";
import { csrfInput, time } from "../layout.js";

export const unlinkPath = "/-/settings/identities/unlink";

export async function identitiesSection(web: WebServices, req: WebRequest): Promise<Html> {
  if (!web.identities) return html``;
  const identities = await web.identities.list(req.principal);
  const rows = identities.map(
    (i) =>
      html`<tr data-identity="${i.issuer}"><td>${i.provider ?? html`<span class="muted">not configured</span>`}</td><td><code>${i.issuer}</code></td><td><code>${i.subject}</code></td><td>${time(i.linkedAt)}</td><td>${i.lastSignInAt ? time(i.lastSignInAt) : "never"}</td><td><form class="inline" action="${unlinkPath}" method="post">${csrfInput(req.page)}<input type="hidden" name="issuer" value="${i.issuer}"><button type="submit" aria-label="Unlink ${i.provider ?? i.issuer}">Unlink</button></form></td></tr>`,
  );
  // Nothing to show to someone who signs in with a token only (and on servers without providers).
  if (identities.length === 0) return html``;
  return html`<h2 id="identities">Linked sign-ins (${identities.length})</h2>
<p class="muted">Accounts of your company's sign-in providers that sign in as you. Unlinked, an account can no longer sign in as you (signing in with it again may link it again or create another user, as the provider's settings say).</p>
<table><thead><tr><th scope="col">Provider</th><th scope="col">Issuer</th><th scope="col">Subject</th><th scope="col">Linked</th><th scope="col">Last sign-in</th><th scope="col"><span class="sr-only">Unlink</span></th></tr></thead><tbody>${rows}</tbody></table>`;
}
