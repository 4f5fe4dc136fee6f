// GET /login: the sign-in form (a token, as the CLI's `protodepot login` takes).
import { html } from "../html.js";
import { layout, type PageContext } from "../layout.js";

export function loginPage(page: PageContext, error?: string): string {
  const main = html`<h1>Sign in</h1>
${error ? html`<p class="error" role="alert">${error}</p>` : ""}
<form action="/login" method="post">
<label class="block" for="token">Token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required>
<p class="muted">Create one with <code>protodepot token create --note browser</code>. Signing in starts a session of its own (a separate token that signing out revokes); the token you paste is not stored.</p>
<button type="submit">Sign in</button>
</form>`;
  return layout(page, "Sign in", main);
}
