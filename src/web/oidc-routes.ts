// Web sign-in through the auth.oidc providers (docs/sso.md): /auth/oidc/{provider}/start sends the browser to the
// provider with PKCE, /auth/oidc/{provider}/callback checks its answer and opens a session as /login does.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { Code, RegistryError } from "../core/errors.js";
import { clientOf } from "../http/principal.js";
import type { AuditTrail } from "../services/audit.js";
import type { SsoService, WebFlow } from "../services/sso.js";
import { baseUrlOf } from "./context.js";
import { html } from "./html.js";
import { layout } from "./layout.js";
import { openWebSession, type SessionOptions } from "./session.js";

/** Holds the flow (state, nonce, PKCE verifier) while the browser is at the provider. */
const flowCookie = "pd_oidc";
const flowPath = "/auth/oidc/";
/** Longer than anyone takes at a provider's login form, short enough that a stale flow is soon gone. */
const flowSeconds = 10 * 60;

export interface OidcRouteOptions extends SessionOptions {
  sso: SsoService;
  /** Where a callback without its flow is recorded as a failed sign-in (the service records the others). */
  audit?: Pick<AuditTrail, "record" | "failedAuth">;
  publicUrl?: string | undefined;
}

export function oidcRoutes(scope: FastifyInstance, opts: OidcRouteOptions): void {
  const callbackOf = (request: FastifyRequest, provider: string) =>
    `${baseUrlOf(request, opts.publicUrl)}/auth/oidc/${encodeURIComponent(provider)}/callback`;

  scope.get<{ Params: { provider: string } }>("/auth/oidc/:provider/start", async (request, reply) => {
    const { provider } = request.params;
    const { url, flow } = await opts.sso.startWebSignIn(provider, callbackOf(request, provider));
    // SameSite=Lax: the provider sends the browser back with a top-level GET, which Lax cookies go along with.
    reply.setCookie(flowCookie, Buffer.from(JSON.stringify(flow)).toString("base64url"), {
      path: flowPath,
      httpOnly: true,
      sameSite: "lax",
      secure: opts.secureCookie,
      maxAge: flowSeconds,
    });
    return reply.redirect(url, 303);
  });

  scope.get<{ Params: { provider: string } }>("/auth/oidc/:provider/callback", async (request, reply) => {
    const { provider } = request.params;
    const flow = flowOf(request);
    const client = clientOf(request);
    reply.clearCookie(flowCookie, { path: flowPath });
    if (!flow || flow.provider !== provider) {
      opts.audit?.failedAuth(
        client,
        `${provider.slice(0, 64)}: a callback without the flow it began with (expired, another browser, or forged)`,
      );
      throw new RegistryError(
        Code.FailedPrecondition,
        "this sign-in expired or began in another browser: start again from the sign-in page",
      );
    }
    const query = request.url.slice(request.url.indexOf("?"));
    const { user } = await opts.sso.finishWebSignIn(
      flow,
      new URL(`${callbackOf(request, provider)}${request.url.includes("?") ? query : ""}`),
      client,
    );
    await openWebSession(reply, opts, { user, client });
    // A page of ours, not a redirect: the browser came from the provider's site, and a Strict session cookie is
    // not sent on a redirect chain that began elsewhere. From this page the way home is same-site.
    return reply.type("text/html; charset=utf-8").send(signedInPage(user.name));
  });
}

function signedInPage(user: string): string {
  const main = html`<h1>Signed in</h1><p>You are signed in as <strong>${user}</strong>. <a id="continue" href="/">Continue</a></p>`;
  // The refresh is markup, not script: the page's Content-Security-Policy allows no inline script.
  return layout({ user, session: true }, "Signed in", main).replace(
    "<head>",
    '<head>\n<meta http-equiv="refresh" content="0;url=/">',
  );
}

function flowOf(request: FastifyRequest): WebFlow | undefined {
  const raw = request.cookies[flowCookie];
  if (!raw) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
    if (typeof value !== "object" || value === null) return undefined;
    const { provider, state, nonce, verifier } = value as Record<string, unknown>;
    if ([provider, state, nonce, verifier].every((v) => typeof v === "string")) {
      return { provider, state, nonce, verifier } as WebFlow;
    }
    return undefined;
  } catch {
    return undefined;
  }
}
