// The web UI: server-rendered pages over the same services and access policy as every protocol, as one
// encapsulated Fastify plugin. The caller is the Authorization header's token, else the session cookie's.

import { readFileSync } from "node:fs";
import fastifyCookie from "@fastify/cookie";
import fastifyFormbody from "@fastify/formbody";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { Code, RegistryError } from "../core/errors.js";
import { clientOf, principalOf } from "../http/principal.js";
import { toRegistryError } from "../http/registry-plugin.js";
import type { AuditTrail } from "../services/audit.js";
import { type AuthService, anonymous, type Principal } from "../services/auth.js";
import type { SsoService } from "../services/sso.js";
import {
  baseUrlOf,
  type Send,
  statusOf,
  type WebOptions,
  type WebRequest,
  type WebServices,
} from "./context.js";
import { checkFormPost, csrfToken } from "./csrf.js";
import { html } from "./html.js";
import { layout, type PageContext } from "./layout.js";
import { manageRoutes } from "./manage-routes.js";
import { oidcRoutes } from "./oidc-routes.js";
import { docsPage } from "./pages/docs.js";
import { filePage } from "./pages/file.js";
import { homePage } from "./pages/home.js";
import { type LoginOptions, loginPage } from "./pages/login.js";
import { modulePage } from "./pages/module.js";
import { ownerPage } from "./pages/owner.js";
import { pluginPage, templatePage } from "./pages/template.js";
import { openWebSession, sessionCookie, sessionNote } from "./session.js";

export { sessionCookie, sessionNote } from "./session.js";

// From src/web or dist/web alike: the assets stay in the source tree, two levels below the package root.
const assetsDir = new URL("../../src/web/assets/", import.meta.url);
const assets = {
  "web.css": { type: "text/css; charset=utf-8", body: readFileSync(new URL("web.css", assetsDir)) },
  "web.js": { type: "text/javascript; charset=utf-8", body: readFileSync(new URL("web.js", assetsDir)) },
} as const;

// Nothing from elsewhere: no inline scripts, no frames, only our own styles and script.
const csp =
  "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

interface WebState {
  principal: Principal;
  session: boolean;
  /** The session's form token (csrf.ts), present with a live session. */
  csrf?: string;
}

declare module "fastify" {
  interface FastifyRequest {
    web: WebState;
  }
}

export interface WebUiOptions extends WebOptions {
  auth: AuthService;
  /** Mark the cookie Secure: the server itself serves TLS. */
  secureCookie: boolean;
  /** Where sign-ins and sign-outs are recorded, and refused sign-ins (docs/audit.md). */
  audit?: Pick<AuditTrail, "record" | "failedAuth">;
  /** Sign-in through the auth.oidc providers (/auth/oidc/…). */
  sso?: SsoService;
  /** config auth.localSignIn: false refuses the token form (tokens still authenticate requests). */
  localSignIn?: boolean;
}

export function registerWebUi(app: FastifyInstance, services: WebServices, opts: WebUiOptions): void {
  app.register(async (scope) => {
    await scope.register(fastifyCookie);
    await scope.register(fastifyFormbody, { bodyLimit: 4096 });
    webHooks(scope, opts.auth);
    scope.setErrorHandler(renderError);
    const send: Send = (reply, body) => reply.type("text/html; charset=utf-8").send(body);
    sessionRoutes(scope, opts, send);
    if (opts.sso) oidcRoutes(scope, { ...opts, sso: opts.sso });
    pageRoutes(scope, services, opts, send);
    manageRoutes(scope, services, { view: viewOf(opts), send });
  });
}

/** Who asks (a session cookie or a token), and the headers every page gets. */
function webHooks(scope: FastifyInstance, auth: WebUiOptions["auth"]): void {
  scope.addHook("onRequest", async (request, reply) => {
    if (request.headers.authorization !== undefined) {
      request.web = { principal: await principalOf(auth, request), session: false };
      return;
    }
    const secret = request.cookies[sessionCookie];
    if (!secret) {
      request.web = { principal: anonymous, session: false };
      return;
    }
    try {
      const principal = await auth.authenticate(`Bearer ${secret}`);
      request.web = {
        principal,
        session: true,
        ...(principal.tokenId ? { csrf: csrfToken(secret, principal.tokenId) } : {}),
      };
    } catch {
      // An expired or revoked session is simply signed out.
      reply.clearCookie(sessionCookie, { path: "/" });
      request.web = { principal: anonymous, session: false };
    }
  });
  // Every form post but the sign-in (which has no session yet, and checks its origin) carries the session's form
  // token, checked here so that no route can forget it.
  scope.addHook("preHandler", async (request) => {
    if (request.method !== "POST" || request.routeOptions.url === "/login") return;
    if (request.routeOptions.url === "/logout" && !request.web.session) return;
    checkFormPost({ csrf: request.web.csrf, body: request.body });
  });
  scope.addHook("onSend", async (request, reply, payload) => {
    reply.header("content-security-policy", csp);
    reply.header("x-content-type-options", "nosniff");
    reply.header("referrer-policy", "same-origin");
    // Pages depend on who asks (the cookie or the Authorization header): no shared cache may keep one, and a
    // signed-in page is kept nowhere. Assets set their own (public) policy.
    if (!reply.hasHeader("cache-control")) {
      const signedIn = request.web?.principal.user !== undefined || request.web?.session === true;
      reply.header("cache-control", signedIn ? "private, no-store" : "no-cache");
      reply.header("vary", "Cookie, Authorization");
    }
    return payload;
  });
}

/** Errors as pages: the status the code maps to, the message (hidden for a 500), a sign-in hint for a 401. */
function renderError(error: unknown, request: FastifyRequest, reply: FastifyReply) {
  const err = toRegistryError(error);
  const status = statusOf(err.code);
  if (status === 500) request.log.error({ err: error, registry: "web" }, "request failed");
  const message = status === 500 ? "Something went wrong on the server." : err.message;
  const title =
    status === 404 ? "Not found" : status === 401 ? "Sign in needed" : status === 403 ? "Refused" : "Error";
  const hint =
    status === 401 && request.headers.authorization === undefined
      ? html`<p><a href="/login">Sign in</a> with a token to see this page.</p>`
      : html``;
  return reply
    .status(status)
    .type("text/html; charset=utf-8")
    .send(layout(pageOf(request), title, html`<h1>${title}</h1><p class="error">${message}</p>${hint}`));
}

/** Sign-in with a token (a session cookie that never outlives it) and sign-out. */
function sessionRoutes(scope: FastifyInstance, opts: WebUiOptions, send: Send): void {
  const { auth } = opts;
  const login: LoginOptions = {
    providers: opts.sso?.providers() ?? [],
    localSignIn: opts.localSignIn ?? true,
  };
  scope.get("/login", async (request, reply) => send(reply, loginPage(pageOf(request), login)));
  scope.post<{ Body: { token?: string } }>("/login", async (request, reply) => {
    checkSameOrigin(request);
    // A refused sign-in is a failed authentication (docs/audit.md); a wrong token is recorded by auth itself.
    const refuse = (reason: string) => opts.audit?.failedAuth(clientOf(request), `web sign-in: ${reason}`);
    if (!login.localSignIn) {
      refuse("a token was posted, but signing in with a token is turned off (auth.localSignIn: false)");
      return send(
        reply.status(403),
        loginPage(
          pageOf(request),
          login,
          "Signing in with a token is turned off on this server (auth.localSignIn): use your company sign-in above. Tokens still work for the API, the CLI and package clients.",
        ),
      );
    }
    const token = typeof request.body?.token === "string" ? request.body.token.trim() : "";
    let principal: Principal;
    try {
      principal = token ? await auth.authenticate(`Bearer ${token}`, clientOf(request)) : anonymous;
    } catch {
      principal = anonymous;
    }
    if (!principal.user) {
      if (!token) refuse("no token given");
      return send(
        reply.status(401),
        loginPage(pageOf(request), login, "That token is not valid: it may be mistyped, revoked or expired."),
      );
    }
    if (principal.user.botOf) {
      refuse(`${principal.user.name} is a bot of ${principal.user.botOf}: bots do not sign in to the web UI`);
      return send(
        reply.status(403),
        loginPage(
          pageOf(request),
          login,
          `${principal.user.name} is a bot of ${principal.user.botOf}: bots do not sign in to the web UI.`,
        ),
      );
    }
    await openWebSession(reply, opts, { ...principal, user: principal.user });
    return reply.redirect("/", 303);
  });
  scope.post("/logout", async (request, reply) => {
    checkSameOrigin(request);
    const { principal, session } = request.web;
    // The session's token is the server's own: deleted, it leaves no revoked row in `token list`.
    if (session && (await auth.closeSession(principal, sessionNote))) {
      await opts.audit?.record(
        { ...principal, client: clientOf(request) },
        {
          action: "session.close",
          target: `token ${principal.tokenId}`,
          ...(principal.user ? { owner: principal.user.name } : {}),
        },
      );
    }
    reply.clearCookie(sessionCookie, { path: "/" });
    return reply.redirect("/", 303);
  });
}

/** Assets, the home page, and the pages of owners, templates, plugins and modules. */
function pageRoutes(scope: FastifyInstance, services: WebServices, opts: WebUiOptions, send: Send): void {
  const view = viewOf(opts);

  scope.get<{ Params: { file: string } }>("/-/:file", async (request, reply) => {
    const { file } = request.params;
    const asset = Object.hasOwn(assets, file) ? assets[file as keyof typeof assets] : undefined;
    if (!asset) throw new RegistryError(Code.NotFound, `no asset ${request.params.file}`);
    return reply.type(asset.type).header("cache-control", "public, max-age=300").send(asset.body);
  });

  scope.get<{ Querystring: { q?: string } }>("/", async (request, reply) =>
    send(reply, await homePage(services, view(request), String(request.query.q ?? ""))),
  );

  scope.get<{ Params: { owner: string } }>("/:owner", async (request, reply) =>
    send(reply, await ownerPage(services, view(request), request.params.owner)),
  );
  scope.get<{ Params: { owner: string; name: string } }>("/:owner/templates/:name", async (request, reply) =>
    send(reply, await templatePage(services, view(request), request.params.owner, request.params.name)),
  );
  scope.get<{ Params: { owner: string; name: string } }>("/:owner/plugins/:name", async (request, reply) =>
    send(reply, await pluginPage(services, view(request), request.params.owner, request.params.name)),
  );
  scope.get<{ Params: { owner: string; module: string }; Querystring: Record<string, unknown> }>(
    "/:owner/:module",
    async (request, reply) => {
      const q = (key: string) => (typeof request.query[key] === "string" ? request.query[key] : undefined);
      return send(
        reply,
        await modulePage(services, view(request), opts, request.params.owner, request.params.module, {
          ref: q("ref"),
          before: q("before"),
          use: q("use"),
          template: q("template"),
        }),
      );
    },
  );
  scope.get<{ Params: { owner: string; module: string; ref: string } }>(
    "/:owner/:module/docs/:ref",
    async (request, reply) => {
      const { owner, module, ref } = request.params;
      return send(reply, await docsPage(services, view(request), owner, module, ref));
    },
  );
  scope.get<{ Params: { owner: string; module: string; ref: string; "*": string } }>(
    "/:owner/:module/tree/:ref/*",
    async (request, reply) => {
      const { owner, module, ref } = request.params;
      return send(reply, await filePage(services, view(request), owner, module, ref, request.params["*"]));
    },
  );
}

function pageOf(request: FastifyRequest): PageContext {
  const state = request.web as WebState | undefined;
  const user = state?.principal.user?.name;
  return {
    ...(user ? { user } : {}),
    session: state?.session ?? false,
    ...(state?.csrf ? { csrf: state.csrf } : {}),
  };
}

/** What a page is rendered for: the caller, the page shell's state, and where clients reach us. */
function viewOf(opts: WebUiOptions): (request: FastifyRequest) => WebRequest {
  return (request) => ({
    principal: request.web.principal,
    page: pageOf(request),
    baseUrl: baseUrlOf(request, opts.publicUrl),
  });
}

/** Forms post from our own pages only: SameSite=Strict keeps the cookie off cross-site posts, this refuses them outright. */
function checkSameOrigin(request: FastifyRequest): void {
  const origin = request.headers.origin;
  if (origin === undefined) return;
  let host: string | undefined;
  try {
    host = new URL(origin).host;
  } catch {
    host = undefined;
  }
  if (host !== request.host) {
    throw new RegistryError(
      Code.PermissionDenied,
      "cross-site form posts are refused: sign in from this site's own page",
    );
  }
}
