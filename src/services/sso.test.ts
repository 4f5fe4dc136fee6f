// Provider choice and the http:// guard of services/sso.ts; the protocol itself runs against a real provider in
// test/e2e/oidc.test.ts.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { oidcIssuerSchema } from "../config/schema.js";
import { Code, isRegistryError } from "../core/errors.js";
import { createSsoService } from "./sso.js";

const provider = (over: Record<string, unknown>) =>
  oidcIssuerSchema.parse({ name: "corp", issuer: "http://127.0.0.1:9/", clientId: "c", ...over });

function service(providers: ReturnType<typeof provider>[]) {
  const failures: string[] = [];
  const sso = createSsoService({
    providers,
    accounts: { signIn: () => Promise.reject(new Error("unused")) },
    auth: { issueToken: () => Promise.reject(new Error("unused")) },
    audit: { record: async () => undefined, failedAuth: (_c, reason) => failures.push(reason) },
    maxTokenLifetimeDays: 0,
  });
  return { sso, failures };
}

describe("sso service", () => {
  it("lists providers by display name and picks the only one when none is named", async () => {
    const { sso } = service([provider({ displayName: "Corp SSO" })]);
    assert.deepEqual(sso.providers(), [{ name: "corp", displayName: "Corp SSO" }]);
    // Picked, then refused for its http:// issuer: the choice was made without a name.
    await assert.rejects(sso.startDeviceSignIn(undefined), (err) => isRegistryError(err, Code.Unavailable));
  });

  it("asks for a name among several providers and refuses unknown ones", async () => {
    const { sso } = service([provider({}), provider({ name: "okta" })]);
    await assert.rejects(sso.startDeviceSignIn(undefined), /name a provider: corp, okta/);
    await assert.rejects(sso.startWebSignIn("nope", "http://x/cb"), (err) =>
      isRegistryError(err, Code.NotFound),
    );
    const none = service([]).sso;
    await assert.rejects(none.startDeviceSignIn(undefined), /no single sign-on provider/);
  });

  it("never talks to an http:// issuer unless allowInsecureIssuer says so, and says which setting", async () => {
    const { sso } = service([provider({})]);
    await assert.rejects(sso.startWebSignIn("corp", "http://x/cb"), (err: unknown) => {
      assert.ok(isRegistryError(err, Code.Unavailable));
      assert.match(err.message, /allowInsecureIssuer: true/);
      return true;
    });
  });
});
