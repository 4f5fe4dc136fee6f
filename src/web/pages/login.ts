// GET /login: "Sign in with …" for each single sign-on provider (docs/sso.md), and the token form (a token, as the
// CLI's `protodepot login` takes) unless the server turned local sign-in off.
import { html } from "../html.js";
import { layout, type PageContext } from "../layout.js";

export interface LoginOptions {
  /** The auth.oidc providers. */
  providers: readonly { name: string; displayName: string }[];
  /** config auth.localSignIn: the token form is offered. */
  localSignIn: boolean;
}

export function loginPage(page: PageContext, opts: LoginOptions, error?: string): string {
  const providers = opts.providers.length
    ? html`<ul class="sso">${opts.providers.map(
        (p) =>
          html`<li><a class="button" href="/auth/oidc/${encodeURIComponent(p.name)}/start">Sign in with ${p.displayName}</a></li>`,
      )}</ul>`
    : "";
  const form = opts.localSignIn
    ? html`<form action="/login" method="post">
<label class="block" for="token">Token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required>
<p class="muted">Create one with <code>protodepot token create --note browser</code>. Signing in starts a session of its own (a separate token that signing out revokes); the token you paste is not stored.</p>
<button type="submit">Sign in</button>
</form>`
    : "";
  const main = html`<h1>Sign in</h1>
${error ? html`<p class="error" role="alert">${error}</p>` : ""}
${providers}
${form}`;
  return layout(page, "Sign in", main);
}
