// A write that fails for lack of space answers 507 with Retry-After in every protocol's own format.
import assert from "node:assert/strict";
import { test } from "node:test";
import Fastify from "fastify";
import { renderError as renderNpmError } from "../registries/npm/errors.js";
import { renderError as renderOciError } from "../registries/oci/errors.js";
import { renderError as renderSourcesError } from "../registries/sources/errors.js";
import { type AuthService, anonymous } from "../services/auth.js";
import { type RegistryPlugin, registerRegistry } from "./registry-plugin.js";

const unused = () => Promise.reject(new Error("not used here"));
const anonymousOnly: AuthService = {
  authenticate: async () => anonymous,
  issueToken: unused,
  listTokens: unused,
  revokeToken: unused,
  ensureAdmin: unused,
  openSession: unused,
};

test("ENOSPC from a store becomes 507 + Retry-After with the storage-full message, in each wire format", async () => {
  const renderers: [string, RegistryPlugin["renderError"], RegExp][] = [
    ["sources", renderSourcesError, /^the server's storage is full: nothing was written; try again later/],
    ["npm", renderNpmError, /"error":"the server's storage is full/],
    ["oci", renderOciError, /"code":"UNKNOWN","message":"the server's storage is full/],
  ];
  for (const [name, renderError, body] of renderers) {
    const app = Fastify();
    registerRegistry(app, anonymousOnly, {
      name,
      renderError,
      routes(scope) {
        scope.put("/write", async () => {
          throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
        });
      },
    });
    const res = await app.inject({ method: "PUT", url: "/write" });
    assert.equal(res.statusCode, 507, name);
    assert.equal(res.headers["retry-after"], "60", name);
    assert.match(res.body, body, name);
    assert.doesNotMatch(
      res.body,
      /ENOSPC|no space left on device/,
      "the driver's text (and paths) stay in the log",
    );
    await app.close();
  }
});

test("a registry's own credential form (cargo's bare token) is read on its routes only", async () => {
  const seen: (string | undefined)[] = [];
  const recording: AuthService = {
    ...anonymousOnly,
    authenticate: async (header) => {
      seen.push(header);
      return anonymous;
    },
  };
  const app = Fastify();
  const route =
    (path: string): RegistryPlugin["routes"] =>
    (scope) =>
      scope.get(path, async () => "ok");
  registerRegistry(app, recording, {
    name: "cargo",
    renderError: renderSourcesError,
    normalizeAuthorization: (h) => (h.includes(" ") ? h : `Bearer ${h}`),
    routes: route("/cargo/x"),
  });
  registerRegistry(app, recording, { name: "npm", renderError: renderSourcesError, routes: route("/npm/x") });
  await app.inject({ url: "/cargo/x", headers: { authorization: "pd_bare" } });
  await app.inject({ url: "/cargo/x", headers: { authorization: "Basic eDpwZF9i" } });
  await app.inject({ url: "/npm/x", headers: { authorization: "pd_bare" } });
  assert.deepEqual(seen, ["Bearer pd_bare", "Basic eDpwZF9i", "pd_bare"]);
  await app.close();
});
