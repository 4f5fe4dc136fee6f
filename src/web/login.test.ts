// The token sign-in form records every refusal as a failed sign-in (docs/audit.md): with auth.localSignIn off, a
// form without a token, and a bot's token. A wrong token is recorded by auth itself, so not here a second time.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import { type AuthService, createAuthService } from "../services/auth.js";
import type { MetadataStore } from "../storage/meta/metadata-store.js";
import { createSqliteMetadataStore } from "../storage/meta/sqlite/sqlite-metadata-store.js";
import type { WebServices } from "./context.js";
import { registerWebUi } from "./routes.js";

/** A service these tests never reach: any call fails the test. */
function unused<T extends object>(name: string): T {
  return new Proxy({} as T, {
    get: (_t, key) => () => {
      throw new Error(`${name}.${String(key)} is not used here`);
    },
  });
}

describe("web sign-in refusals", () => {
  let dir: string;
  let meta: MetadataStore;
  let auth: AuthService;
  const secrets = new Map<string, string>();
  const failures: string[] = [];
  const recorded: string[] = [];
  const services = {
    modules: unused("modules"),
    plugins: unused("plugins"),
    templates: unused("templates"),
    pregenerate: unused("pregenerate"),
    orgs: unused("orgs"),
    users: unused("users"),
  } as WebServices;

  async function webApp(localSignIn: boolean): Promise<FastifyInstance> {
    const app = Fastify();
    registerWebUi(app, services, {
      auth,
      goHost: "go.test",
      npmScope: "test",
      secureCookie: false,
      localSignIn,
      audit: {
        record: async (_p, change) => void recorded.push(change.action),
        failedAuth: (_client, reason) => void failures.push(reason),
      },
    });
    await app.ready();
    return app;
  }
  const signIn = (app: FastifyInstance, token: string) =>
    app.inject({ method: "POST", url: "/login", payload: { token } });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "protodepot-web-login-"));
    meta = await createSqliteMetadataStore({ path: join(dir, "meta.sqlite") });
    auth = createAuthService(meta);
    const olga = await meta.createUser({ name: "olga", isAdmin: false });
    await meta.createOrganization({ name: "acme", ownerUserId: olga.id });
    const bot = await meta.createUser({ name: "acme-ci", isAdmin: false, botOf: "acme" });
    secrets.set("olga", (await auth.issueToken(olga.id, "setup")).secret);
    secrets.set("acme-ci", (await auth.issueToken(bot.id, "setup")).secret);
  });
  after(async () => {
    await meta.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("with auth.localSignIn false, records the refused token as a failed sign-in, once", async () => {
    failures.length = 0;
    const app = await webApp(false);
    try {
      const res = await signIn(app, secrets.get("olga") ?? "");
      assert.equal(res.statusCode, 403);
      assert.equal(res.headers["set-cookie"], undefined);
      assert.equal(failures.length, 1);
      assert.match(failures[0] ?? "", /^web sign-in: .*auth\.localSignIn: false/);
    } finally {
      await app.close();
    }
  });

  it("records a form without a token and a bot's token; a good sign-in opens a session, no failure", async () => {
    failures.length = 0;
    recorded.length = 0;
    const app = await webApp(true);
    try {
      assert.equal((await signIn(app, "  ")).statusCode, 401);
      const bot = await signIn(app, secrets.get("acme-ci") ?? "");
      assert.equal(bot.statusCode, 403);
      assert.match(bot.body, /bots do not sign in/);
      // A wrong token: auth's own failure recording (not wired here) is the one place that counts it.
      assert.equal((await signIn(app, "pd_wrong")).statusCode, 401);
      assert.deepEqual(
        failures.map((f) => f.replace(/:.*$/, "")),
        ["web sign-in", "web sign-in"],
      );
      assert.match(failures[0] ?? "", /no token given/);
      assert.match(failures[1] ?? "", /acme-ci is a bot of acme/);
      const ok = await signIn(app, secrets.get("olga") ?? "");
      assert.equal(ok.statusCode, 303, ok.body);
      assert.equal(failures.length, 2);
      assert.deepEqual(recorded, ["session.open"]);
    } finally {
      await app.close();
    }
  });
});
