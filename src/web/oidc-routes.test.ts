// The web half of provider sign-in without sockets: the flow cookie that carries state, nonce and PKCE verifier to
// the callback, the callback URL handed to the checks, and a session only after they pass.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fastifyCookie from "@fastify/cookie";
import Fastify from "fastify";
import { Code, isRegistryError, RegistryError } from "../core/errors.js";
import type { User } from "../core/types.js";
import type { SsoService, WebFlow } from "../services/sso.js";
import { oidcRoutes } from "./oidc-routes.js";

const ann: User = { id: "u-ann", name: "ann", isAdmin: false, createdAt: "" };

async function app() {
  const calls: { flow: WebFlow; url: string }[] = [];
  const sessions: string[] = [];
  const failures: string[] = [];
  const sso: SsoService = {
    providers: () => [{ name: "corp", displayName: "Corp" }],
    async startWebSignIn(provider, redirectUri) {
      if (provider !== "corp") throw new RegistryError(Code.NotFound, `no sign-in provider ${provider}`);
      const flow = { provider, state: "st", nonce: "no", verifier: "ve" };
      return { url: `https://idp.example.com/auth?redirect_uri=${encodeURIComponent(redirectUri)}`, flow };
    },
    async finishWebSignIn(flow, callbackUrl) {
      calls.push({ flow, url: callbackUrl.href });
      if (callbackUrl.searchParams.get("state") !== flow.state) {
        throw new RegistryError(Code.Unauthenticated, "state mismatch");
      }
      return { user: ann, created: false, granted: [], removed: [] };
    },
    startDeviceSignIn: () => Promise.reject(new Error("unused")),
    pollDeviceSignIn: () => Promise.reject(new Error("unused")),
  };
  const server = Fastify();
  await server.register(fastifyCookie);
  server.setErrorHandler((err, _req, reply) => {
    const status = isRegistryError(err, Code.NotFound)
      ? 404
      : isRegistryError(err, Code.Unauthenticated)
        ? 401
        : isRegistryError(err, Code.FailedPrecondition)
          ? 400
          : 500;
    return reply.status(status).send(err instanceof Error ? err.message : "");
  });
  const auth = {
    async openSession(userId: string) {
      sessions.push(userId);
      return "pd_session-secret";
    },
  };
  const audit = {
    record: async () => {},
    failedAuth: (_c: unknown, reason: string) => void failures.push(reason),
  };
  oidcRoutes(server, { sso, auth, secureCookie: false, audit });
  return { server, calls, sessions, failures };
}

describe("web sign-in through a provider", () => {
  it("sends the browser to the provider with our callback, keeping the flow in a Lax cookie", async () => {
    const { server } = await app();
    const res = await server.inject({ url: "/auth/oidc/corp/start", headers: { host: "registry.test" } });
    assert.equal(res.statusCode, 303);
    const location = new URL(String(res.headers.location));
    assert.equal(location.origin, "https://idp.example.com");
    assert.equal(location.searchParams.get("redirect_uri"), "http://registry.test/auth/oidc/corp/callback");
    const cookie = String(res.headers["set-cookie"]);
    assert.match(cookie, /^pd_oidc=/);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Lax/);
    assert.match(cookie, /Path=\/auth\/oidc\//);
    const missing = await server.inject({ url: "/auth/oidc/nope/start" });
    assert.equal(missing.statusCode, 404);
  });

  it("opens a session only when the provider's answer checks out against the cookie's flow", async () => {
    const { server, calls, sessions, failures } = await app();
    const started = await server.inject({ url: "/auth/oidc/corp/start", headers: { host: "registry.test" } });
    const flowCookie = String(started.headers["set-cookie"]).split(";")[0] ?? "";
    const done = await server.inject({
      url: "/auth/oidc/corp/callback?code=abc&state=st",
      headers: { host: "registry.test", cookie: flowCookie },
    });
    assert.equal(done.statusCode, 200, done.body);
    assert.equal(calls[0]?.url, "http://registry.test/auth/oidc/corp/callback?code=abc&state=st");
    assert.deepEqual(calls[0]?.flow, { provider: "corp", state: "st", nonce: "no", verifier: "ve" });
    assert.deepEqual(sessions, ["u-ann"]);
    assert.match(String(done.headers["set-cookie"]), /pd_session=pd_session-secret/);
    assert.match(done.body, /http-equiv="refresh"/);

    const forged = await server.inject({
      url: "/auth/oidc/corp/callback?code=abc&state=other",
      headers: { cookie: flowCookie },
    });
    assert.equal(forged.statusCode, 401);
    const noFlow = await server.inject({ url: "/auth/oidc/corp/callback?code=abc&state=st" });
    assert.equal(noFlow.statusCode, 400);
    assert.match(noFlow.body, /start again/);
    const garbled = await server.inject({
      url: "/auth/oidc/corp/callback?code=abc&state=st",
      headers: { cookie: "pd_oidc=not-json" },
    });
    assert.equal(garbled.statusCode, 400);
    assert.deepEqual(sessions, ["u-ann"], "no session from a refused answer");
    // A callback without its flow is a failed sign-in, recorded here once each; the provider's checks (the forged
    // state) are the service's to record.
    assert.equal(failures.length, 2);
    assert.ok(
      failures.every((f) => /^corp: a callback without the flow/.test(f)),
      JSON.stringify(failures),
    );
  });
});
