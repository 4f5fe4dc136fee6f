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
  closeSession: unused,
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

test("a registry's own credential form is read by its plugin alone, before authentication", async () => {
  const seen: (string | undefined)[] = [];
  const recording: AuthService = {
    ...anonymousOnly,
    authenticate: async (header) => {
      seen.push(header);
      return anonymous;
    },
  };
  const app = Fastify();
  const plain = { name: "plain", renderError: renderSourcesError };
  registerRegistry(app, recording, { ...plain, routes: (s) => s.get("/plain", async () => "ok") });
  registerRegistry(app, recording, {
    ...plain,
    name: "own",
    authorization: (h) => (h === "Token x" ? "Bearer x" : h),
    routes: (s) => s.get("/own", async () => "ok"),
  });
  await app.inject({ url: "/own", headers: { authorization: "Token x" } });
  await app.inject({ url: "/plain", headers: { authorization: "Token x" } });
  assert.deepEqual(seen, ["Bearer x", "Token x"]);
  await app.close();
});
