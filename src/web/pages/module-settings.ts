// GET /{owner}/{module}/-/settings: a module's settings, as the management API offers them: visibility, description,
// default label, deprecation, push policies, pre-generation. The services decide who may change what.
import { breakingCategories, lintCategories, type Module, type PushPolicy } from "../../core/types.js";
import { type FormOutcome, nameFrom, type WebRequest, type WebServices } from "../context.js";
import { type Html, html, seg } from "../html.js";
import { csrfInput, layout } from "../layout.js";
import { options, outcome } from "./form.js";
import { badge } from "./owner.js";

const actions = ["off", "warn", "reject"] as const;

export async function moduleSettingsPage(
  web: WebServices,
  req: WebRequest,
  owner: string,
  name: string,
  result: FormOutcome = {},
): Promise<string> {
  const full = nameFrom("module", owner, name);
  const mod = await web.modules.getModule(req.principal, full);
  const [labels, policy, pregenerate] = await Promise.all([
    web.modules.listLabels(req.principal, full),
    web.modules.getPushPolicy(req.principal, full, ""),
    web.pregenerate.list(req.principal, full),
  ]);
  const base = `/${seg(owner)}/${seg(name)}`;
  const main = html`<nav aria-label="Breadcrumb"><a href="/${seg(owner)}">${owner}</a> / <a href="${base}">${name}</a> / settings</nav>
<h1>Settings of ${owner}/${name}${badge(mod.visibility)}</h1>
<p class="muted">Writers of ${owner} change the description and default label; visibility, deprecation and push policies need an owner of ${owner}.</p>
${outcome(result)}
${generalForm(
  req,
  base,
  mod,
  labels.map((l) => l.name),
)}
${policyForm(req, base, policy)}
<h2 id="pregenerate">Pre-generation</h2>
<form class="stack" action="${base}/-/settings/pregenerate" method="post">${csrfInput(req.page)}
<label class="block" for="templates">Templates run on every push <span class="muted">(OWNER/NAME, separated by spaces or commas; empty: none)</span></label>
<input id="templates" name="templates" value="${pregenerate.map((t) => `${t.owner}/${t.name}`).join(", ")}">
<button type="submit">Save pre-generation</button>
</form>`;
  return layout(req.page, `Settings of ${owner}/${name}`, main);
}

function generalForm(req: WebRequest, base: string, mod: Module, labels: string[]): Html {
  return html`<h2 id="general">General</h2>
<form class="stack" action="${base}/-/settings" method="post">${csrfInput(req.page)}
<fieldset><legend>Visibility</legend>
<label class="check"><input type="radio" name="visibility" value="public"${mod.visibility === "public" ? html` checked` : ""}> Public: anyone may read it</label>
<label class="check"><input type="radio" name="visibility" value="private"${mod.visibility === "private" ? html` checked` : ""}> Private: members of ${mod.owner} only</label>
</fieldset>
<label class="block" for="description">Description</label>
<input id="description" name="description" maxlength="350" value="${mod.description ?? ""}">
<label class="block" for="default-label">Default label</label>
${
  labels.length
    ? html`<select id="default-label" name="defaultLabel">${options(labels, mod.defaultLabel)}</select>`
    : html`<input id="default-label" name="defaultLabel" value="${mod.defaultLabel}">`
}
<label class="check"><input type="checkbox" name="deprecated" value="yes"${mod.deprecation !== undefined ? html` checked` : ""}> Deprecated</label>
<label class="block" for="deprecation">Deprecation message <span class="muted">(shown by every client)</span></label>
<input id="deprecation" name="deprecation" maxlength="1000" value="${mod.deprecation ?? ""}">
<button type="submit">Save settings</button>
</form>`;
}

function policyForm(req: WebRequest, base: string, policy: PushPolicy): Html {
  return html`<h2 id="push-policy">Push policy</h2>
<p class="muted">What a push must pass: buf breaking against the label's head, and buf lint. A label left empty sets the module's default; a label of its own starts from it.</p>
<form class="stack" action="${base}/-/settings/push-policy" method="post">${csrfInput(req.page)}
<label class="block" for="policy-label">Label <span class="muted">(empty: the module's default)</span></label>
<input id="policy-label" name="label" maxlength="100">
<label class="block" for="breaking">Breaking changes</label>
<select id="breaking" name="breaking">${options(actions, policy.breaking)}</select>
<label class="block" for="breaking-category">Breaking category</label>
<select id="breaking-category" name="breakingCategory">${options(breakingCategories, policy.breakingCategory)}</select>
<label class="block" for="lint">Lint</label>
<select id="lint" name="lint">${options(actions, policy.lint)}</select>
<fieldset><legend>Lint categories</legend>${lintCategories.map(
    (c) =>
      html`<label class="check"><input type="checkbox" name="lintCategories" value="${c}"${policy.lintCategories.includes(c) ? html` checked` : ""}> ${c}</label>`,
  )}</fieldset>
<button type="submit">Save push policy</button>
</form>`;
}
