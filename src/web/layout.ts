// The page shell every web page shares: header with search and sign-in state, main content, footer.
import { csrfField } from "./csrf.js";
import { type Html, html } from "./html.js";

export interface PageContext {
  /** The signed-in user's name, if any. */
  user?: string;
  /** Whether the sign-in came from the session cookie (then a sign-out form is shown). */
  session: boolean;
  /** The session's form token (csrf.ts): every form of a signed-in page carries it. */
  csrf?: string;
}

/** The hidden field that lets a form through the server's CSRF check. */
export function csrfInput(ctx: PageContext): Html {
  return html`<input type="hidden" name="${csrfField}" value="${ctx.csrf ?? ""}">`;
}

export function layout(ctx: PageContext, title: string, main: Html): string {
  return `<!doctype html>${
    html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · protodepot</title>
<link rel="stylesheet" href="/-/web.css">
<script src="/-/web.js" defer></script>
</head>
<body>
<header class="top">
<a class="brand" href="/">protodepot</a>
<form class="search" role="search" action="/" method="get"><label for="q" class="sr-only">Search modules</label><input id="q" name="q" type="search" placeholder="Search modules"></form>
<nav aria-label="Account">${
      ctx.user
        ? html`<span class="who">Signed in as <strong>${ctx.user}</strong></span> <a href="/-/settings/tokens">Settings</a>${
            ctx.session
              ? html` <form class="inline" action="/logout" method="post">${csrfInput(ctx)}<button type="submit">Sign out</button></form>`
              : ""
          }`
        : html`<a href="/login">Sign in</a>`
    }</nav>
</header>
<main id="main">
${main}
</main>
<footer><a href="/">protodepot</a> · Protobuf schema registry</footer>
</body>
</html>
`.text
  }`;
}

/** A `<pre>` with a copy button; the button copies the text of the `<code>` beside it. */
export function copyable(text: string, label: string): Html {
  return html`<div class="copy"><pre><code>${text}</code></pre><button type="button" class="copy-btn" aria-label="Copy ${label}">Copy</button></div>`;
}

export function relativeTime(iso: string, now = Date.now()): string {
  const s = Math.round((now - Date.parse(iso)) / 1000);
  if (!Number.isFinite(s)) return iso;
  if (s < 60) return "just now";
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function time(iso: string): Html {
  return html`<time datetime="${iso}" title="${iso}">${relativeTime(iso)}</time>`;
}
