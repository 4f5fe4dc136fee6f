// Sign-in through OpenID Connect providers (docs/sso.md), the protocol done by openid-client: the web's
// authorization code flow with PKCE, and the device authorization grant (RFC 8628) for `protodepot login --sso`.
// The server alone talks to the provider, so client secrets never leave it; the CLI talks to our API only.
import * as oidc from "openid-client";
import type { OidcIssuerConfig } from "../config/schema.js";
import { Code, isRegistryError, RegistryError } from "../core/errors.js";
import type { User } from "../core/types.js";
import type { AuditTrail } from "./audit.js";
import type { AuthService, ClientInfo } from "./auth.js";
import type { SignedIn, SsoAccounts } from "./sso-accounts.js";

type Tokens = oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;

/** What a web sign-in keeps between leaving for the provider and coming back (in a short-lived cookie). */
export interface WebFlow {
  provider: string;
  state: string;
  nonce: string;
  verifier: string;
}

export interface DeviceSignIn {
  provider: string;
  /** Passed back to pollDeviceSignIn: the provider's device code (useless without this server's client secret). */
  handle: string;
  userCode: string;
  verificationUri: string;
  verificationUriComplete?: string;
  intervalSeconds: number;
  expiresInSeconds: number;
}

export type DevicePoll =
  | { status: "pending" | "slow-down" }
  | { status: "done"; user: User; token: string; expiresAt: string };

export interface SsoService {
  /** The configured providers, as the login page lists them. */
  providers(): { name: string; displayName: string }[];
  /** The provider's authorization URL for a browser, and what the callback needs back. */
  startWebSignIn(provider: string, redirectUri: string): Promise<{ url: string; flow: WebFlow }>;
  /** Checks the provider's answer at `callbackUrl` against `flow`, then signs the account in (provisioning it). */
  finishWebSignIn(flow: WebFlow, callbackUrl: URL, client?: ClientInfo): Promise<SignedIn>;
  /** Asks the provider for a user code; `provider` may be left out when only one is configured. */
  startDeviceSignIn(provider: string | undefined): Promise<DeviceSignIn>;
  /** One question to the provider: still pending, or signed in (then a token of ours for the CLI). */
  pollDeviceSignIn(provider: string, handle: string, client?: ClientInfo): Promise<DevicePoll>;
}

export interface SsoOptions {
  providers: readonly OidcIssuerConfig[];
  accounts: SsoAccounts;
  auth: Pick<AuthService, "issueToken">;
  audit: Pick<AuditTrail, "record" | "failedAuth">;
  /** config auth.maxTokenLifetimeDays (0: none): caps the lifetime of the CLI's token. */
  maxTokenLifetimeDays: number;
  now?: () => number;
}

const dayMs = 24 * 60 * 60 * 1000;
/** Seconds openid-client waits for the provider per request. */
const providerTimeoutSeconds = 10;
const deviceGrant = "urn:ietf:params:oauth:grant-type:device_code";

/** The configured providers by name, each with its discovered configuration (read once, again after a failure). */
function providerDirectory(providers: readonly OidcIssuerConfig[]) {
  const byName = new Map(providers.map((p) => [p.name, p]));
  const configs = new Map<string, Promise<oidc.Configuration>>();
  const names = () => providers.map((p) => p.name).join(", ");
  return {
    /** The named provider; without a name, the only one. */
    provider(name: string | undefined): OidcIssuerConfig {
      if (name === undefined || name === "") {
        const [only, ...more] = providers;
        if (only && more.length === 0) return only;
        throw new RegistryError(
          Code.InvalidArgument,
          providers.length === 0
            ? "this server has no single sign-on provider (auth.oidc)"
            : `name a provider: ${names()}`,
        );
      }
      const found = byName.get(name);
      if (!found) {
        throw new RegistryError(
          Code.NotFound,
          `no sign-in provider ${name} (configured: ${names() || "none"})`,
        );
      }
      return found;
    },
    configOf(p: OidcIssuerConfig): Promise<oidc.Configuration> {
      let config = configs.get(p.name);
      if (!config) {
        config = discover(p);
        configs.set(p.name, config);
        // The provider may have been down: the next sign-in asks again.
        config.catch(() => configs.delete(p.name));
      }
      return config;
    },
  };
}

export function createSsoService(opts: SsoOptions): SsoService {
  const now = opts.now ?? Date.now;
  const { provider, configOf } = providerDirectory(opts.providers);
  const refused = (p: OidcIssuerConfig, err: unknown, client: ClientInfo | undefined) =>
    refusal(opts.audit, p, err, client);

  const signIn = (p: OidcIssuerConfig, tokens: Tokens, via: "web" | "cli", client: ClientInfo | undefined) =>
    completeSignIn(opts, p, configOf(p), tokens, via, client);

  return {
    providers: () => opts.providers.map((p) => ({ name: p.name, displayName: p.displayName ?? p.name })),

    async startWebSignIn(name, redirectUri) {
      const p = provider(name);
      return webAuthorization(p, await configOf(p), redirectUri);
    },

    async finishWebSignIn(flow, callbackUrl, client) {
      const p = provider(flow.provider);
      const config = await configOf(p);
      const tokens = await oidc
        .authorizationCodeGrant(config, callbackUrl, {
          pkceCodeVerifier: flow.verifier,
          expectedState: flow.state,
          expectedNonce: flow.nonce,
          idTokenExpected: true,
        })
        .catch((err: unknown) => {
          throw refused(p, err, client);
        });
      return signIn(p, tokens, "web", client);
    },

    async startDeviceSignIn(name) {
      const p = provider(name);
      return deviceAuthorization(p, await configOf(p));
    },

    async pollDeviceSignIn(name, handle, client) {
      const p = provider(name);
      const config = await configOf(p);
      let tokens: Tokens;
      try {
        tokens = await oidc.genericGrantRequest(config, deviceGrant, { device_code: handle });
      } catch (err) {
        const code = err instanceof oidc.ResponseBodyError ? err.error : undefined;
        if (code === "authorization_pending") return { status: "pending" };
        if (code === "slow_down") return { status: "slow-down" };
        throw refused(p, err, client);
      }
      const { user } = await signIn(p, tokens, "cli", client);
      const expiresAt = cliTokenExpiry(p, opts.maxTokenLifetimeDays, now());
      const { secret } = await opts.auth.issueToken(user.id, `signed in with ${p.name}`, expiresAt);
      return { status: "done", user, token: secret, expiresAt };
    },
  };
}

/** The provider's authorization URL for a web sign-in (code flow + PKCE), and the flow to check its callback by. */
async function webAuthorization(p: OidcIssuerConfig, config: oidc.Configuration, redirectUri: string) {
  const verifier = oidc.randomPKCECodeVerifier();
  const flow: WebFlow = {
    provider: p.name,
    state: oidc.randomState(),
    nonce: oidc.randomNonce(),
    verifier,
  };
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: scopeOf(p),
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state: flow.state,
    nonce: flow.nonce,
  });
  return { url: url.href, flow };
}

/** Starts the device flow at the provider (RFC 8628): the code the user confirms, and how to poll. */
async function deviceAuthorization(p: OidcIssuerConfig, config: oidc.Configuration) {
  if (!config.serverMetadata().device_authorization_endpoint) {
    throw new RegistryError(
      Code.FailedPrecondition,
      `${p.name} offers no device authorization endpoint: enable the device flow for this client at the provider`,
    );
  }
  const answer = await oidc
    .initiateDeviceAuthorization(config, { scope: scopeOf(p) })
    .catch((err: unknown) => {
      throw providerError(p, err);
    });
  return {
    provider: p.name,
    handle: answer.device_code,
    userCode: answer.user_code,
    verificationUri: answer.verification_uri,
    ...(answer.verification_uri_complete
      ? { verificationUriComplete: answer.verification_uri_complete }
      : {}),
    intervalSeconds: answer.interval ?? 5,
    expiresInSeconds: answer.expires_in,
  };
}

/** Signs the account in and records it; a refusal is a failed sign-in (audit) and rethrown. */
async function completeSignIn(
  opts: Pick<SsoOptions, "accounts" | "audit">,
  p: OidcIssuerConfig,
  config: Promise<oidc.Configuration>,
  tokens: Tokens,
  via: "web" | "cli",
  client: ClientInfo | undefined,
): Promise<SignedIn> {
  try {
    // Inside: a provider's answer without an ID token (or whose userinfo fails) is a refused sign-in too.
    const claims = await claimsOf(await config, p, tokens);
    const signedIn = await opts.accounts.signIn(p, claims, client);
    await opts.audit.record(
      { user: signedIn.user, ...(client ? { client } : {}) },
      {
        action: "sso.sign-in",
        target: `user ${signedIn.user.name}`,
        owner: signedIn.user.name,
        after: { provider: p.name, via, created: signedIn.created },
      },
    );
    return signedIn;
  } catch (err) {
    if (client && isRegistryError(err)) opts.audit.failedAuth(client, `${p.name}: ${err.message}`);
    throw err;
  }
}

/** The CLI's token lives cliTokenLifetimeDays, never past auth.maxTokenLifetimeDays (0: no maximum). */
function cliTokenExpiry(p: OidcIssuerConfig, maxDays: number, nowMs: number): string {
  const days = maxDays > 0 ? Math.min(p.cliTokenLifetimeDays, maxDays) : p.cliTokenLifetimeDays;
  return new Date(nowMs + days * dayMs).toISOString();
}

/** The provider said no (or its answer did not check out): a failed sign-in, recorded. */
function refusal(
  audit: Pick<AuditTrail, "failedAuth">,
  p: OidcIssuerConfig,
  err: unknown,
  client: ClientInfo | undefined,
): RegistryError {
  if (isRegistryError(err)) return err;
  // The token endpoint's error (device flow, code exchange), or the one the provider sent back to the callback.
  const reason =
    err instanceof oidc.ResponseBodyError || err instanceof oidc.AuthorizationResponseError
      ? err.error
      : undefined;
  const message =
    reason === "expired_token"
      ? `the code expired before it was approved at ${p.name}: sign in again`
      : reason === "access_denied"
        ? `the sign-in was denied at ${p.name}`
        : `sign-in with ${p.name} failed: ${err instanceof Error ? err.message : String(err)}`;
  if (client) audit.failedAuth(client, `${p.name}: ${message}`);
  return new RegistryError(Code.Unauthenticated, message);
}

async function discover(p: OidcIssuerConfig): Promise<oidc.Configuration> {
  try {
    const config = await oidc.discovery(
      new URL(p.issuer),
      p.clientId,
      undefined,
      p.clientSecret ? oidc.ClientSecretBasic(p.clientSecret) : oidc.None(),
      // http:// issuers only when the admin said so for this provider (allowInsecureIssuer).
      { execute: p.allowInsecureIssuer ? [oidc.allowInsecureRequests] : [], timeout: providerTimeoutSeconds },
    );
    config.timeout = providerTimeoutSeconds;
    return config;
  } catch (err) {
    throw providerError(p, err);
  }
}

function providerError(p: OidcIssuerConfig, err: unknown): RegistryError {
  if (isRegistryError(err)) return err;
  const reason = err instanceof Error ? err.message : String(err);
  const hint =
    p.issuer.startsWith("http:") && !p.allowInsecureIssuer
      ? " (an http:// issuer needs allowInsecureIssuer: true)"
      : "";
  return new RegistryError(
    Code.Unavailable,
    `sign-in provider ${p.name} (${p.issuer}) failed: ${reason}${hint}`,
  );
}

function scopeOf(p: OidcIssuerConfig): string {
  return ["openid", ...p.scopes.filter((s) => s !== "openid")].join(" ");
}

/** The ID token's claims, with the userinfo answer's added when the token lacks the username or groups. */
async function claimsOf(
  config: oidc.Configuration,
  p: OidcIssuerConfig,
  tokens: Tokens,
): Promise<Record<string, unknown>> {
  const idClaims = tokens.claims();
  if (!idClaims) throw new RegistryError(Code.Unauthenticated, `${p.name} answered without an ID token`);
  const claims: Record<string, unknown> = { ...idClaims };
  const missing = !(p.usernameClaim in claims) || !(p.groupsClaim in claims);
  if (missing && tokens.access_token && config.serverMetadata().userinfo_endpoint) {
    const info = await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub).catch((err: unknown) => {
      throw providerError(p, err);
    });
    for (const [k, v] of Object.entries(info)) if (!(k in claims)) claims[k] = v;
  }
  return claims;
}
