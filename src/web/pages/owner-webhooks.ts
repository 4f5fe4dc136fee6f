// GET /{owner}/-/webhooks: an owner's webhook subscriptions, for those who manage it (an organization's owners, the
// user themself, admins): subscribe a URL (its secret shown once), rotate a secret, see the latest deliveries and
// send one again, delete a subscription (docs/webhooks.md).
import { isValidName } from "../../core/names.js";
import type { Webhook, WebhookDelivery } from "../../core/types.js";
import { eventKinds } from "../../services/events.js";
import { type FormOutcome, notFound, type WebRequest, type WebServices } from "../context.js";
import { html, seg } from "../html.js";
import { copyable, csrfInput, layout, time } from "../layout.js";
import { outcome } from "./form.js";

/** A secret just made (a new subscription, or a rotation): shown on this one answer and never again. */
export interface NewSecret {
  webhook: string;
  secret: string;
  rotated: boolean;
}

/** Deliveries shown per subscription. */
const recent = 5;

export async function webhooksPage(
  web: WebServices,
  req: WebRequest,
  owner: string,
  result: FormOutcome & { secret?: NewSecret } = {},
): Promise<string> {
  if (!isValidName(owner)) throw notFound(`owner ${owner} does not exist`);
  const hooks = await web.webhooks.list(req.principal, owner);
  const deliveries = new Map<string, WebhookDelivery[]>();
  for (const h of hooks) deliveries.set(h.id, await web.webhooks.deliveries(req.principal, h.id, recent));
  const action = `/${seg(owner)}/-/webhooks`;
  const { secret } = result;
  const main = html`<nav aria-label="Breadcrumb"><a href="/${seg(owner)}">${owner}</a> / webhooks</nav>
<h1>Webhooks of ${owner}</h1>
<p class="muted">Each subscription receives ${owner}'s events as signed JSON posts (<code>Protodepot-Signature</code>, HMAC-SHA256 with its secret), retried with backoff; a failing endpoint never slows a push.</p>
${outcome(result)}
${
  secret
    ? html`<section class="new-token" aria-labelledby="new-secret"><h2 id="new-secret">${secret.rotated ? "New secret" : "Secret"} of webhook ${secret.webhook}</h2>
<p><strong>Copy it now: it is not shown again.</strong>${secret.rotated ? " The replaced secret keeps signing beside it for a day, so your receiver can switch without refusing a delivery." : ""}</p>
${copyable(secret.secret, "webhook secret")}</section>`
    : ""
}
${hooks.map((h) => hookSection(req, action, h, deliveries.get(h.id) ?? []))}
${hooks.length ? "" : html`<p class="muted">No webhooks.</p>`}
<h2>Subscribe a URL</h2>
<form class="stack" action="${action}" method="post">${csrfInput(req.page)}
<label class="block" for="url">URL <span class="muted">(https; loopback and private addresses only where the admin allows them)</span></label>
<input id="url" name="url" type="url" required maxlength="2048" placeholder="https://ci.example.com/protodepot">
<fieldset><legend>Events <span class="muted">(none checked: all)</span></legend>
${eventKinds.map((k) => html`<label class="check"><input type="checkbox" name="event" value="${k}"> ${k}</label> `)}
</fieldset>
<button type="submit">Create webhook</button>
</form>`;
  return layout(req.page, `Webhooks of ${owner}`, main);
}

function hookSection(req: WebRequest, action: string, h: Webhook, deliveries: readonly WebhookDelivery[]) {
  return html`<section class="webhook" data-webhook="${h.id}" aria-labelledby="webhook-${h.id}">
<h2 id="webhook-${h.id}"><code>${h.url}</code></h2>
<p class="muted">Webhook ${h.id} · events: ${h.events.join(", ")} · created ${time(h.createdAt)} by ${h.createdBy}${
    h.previousSecretUntil ? html` · the previous secret signs until ${time(h.previousSecretUntil)}` : ""
  }</p>
${
  deliveries.length
    ? html`<table><thead><tr><th scope="col">Event</th><th scope="col">State</th><th scope="col">Attempts</th><th scope="col">Last status</th><th scope="col">Created</th><th scope="col"><span class="sr-only">Redeliver</span></th></tr></thead><tbody>${deliveries.map(
        (d) =>
          html`<tr data-delivery="${d.id}"><td>${d.kind}</td><td>${d.state}</td><td>${d.attempts}</td><td>${d.lastStatus ?? d.lastError ?? ""}</td><td>${time(d.createdAt)}</td><td><form class="inline" action="${action}/${seg(h.id)}/deliveries/${seg(d.id)}/redeliver" method="post">${csrfInput(req.page)}<button type="submit" aria-label="Redeliver ${d.id}">Redeliver</button></form></td></tr>`,
      )}</tbody></table>`
    : html`<p class="muted">No deliveries yet.</p>`
}
<form class="inline" action="${action}/${seg(h.id)}/rotate" method="post">${csrfInput(req.page)}<button type="submit" aria-label="Rotate the secret of webhook ${h.id}">Rotate secret</button></form>
<form class="inline" action="${action}/${seg(h.id)}/delete" method="post">${csrfInput(req.page)}<button type="submit" aria-label="Delete webhook ${h.id}">Delete</button></form>
</section>`;
}
