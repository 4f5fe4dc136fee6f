// The web plugin's form handling without sockets: every POST but the sign-in needs the session's form token,
// refusals show on the form, and signing out deletes the session's token.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import { createAccessPolicy } from "../services/access.js";
import { createAuditTrail } from "../services/audit.js";
import { type AuthService, createAuthService } from "../services/auth.js";
import { createBotService } from "../services/bots.js";
import { createEvents } from "../services/events.js";
import { createIdentityService } from "../services/identities.js";
import { createOrganizationService } from "../services/organizations.js";
import { createUserService } from "../services/users.js";
import { createTargetPolicy } from "../services/webhooks/targets.js";
import { createWebhookService } from "../services/webhooks.js";
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

describe("web forms", () => {
  let dir: string;
  let meta: MetadataStore;
  let auth: AuthService;
  let app: FastifyInstance;
  const secrets = new Map<string, string>();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "protodepot-web-forms-"));
    meta = await createSqliteMetadataStore({ path: join(dir, "meta.sqlite") });
    auth = createAuthService(meta);
    const access = createAccessPolicy(meta, { anonymousRead: true });
    const audit = createAuditTrail({ store: meta, access, retentionDays: 0 });
    const orgs = createOrganizationService(meta, { access, allowOrgCreation: true, audit });
    const users = createUserService(meta, auth, { access, audit });
    for (const name of ["olga", "walt", "nina"]) {
      const user = await meta.createUser({ name, isAdmin: false });
      secrets.set(name, (await auth.issueToken(user.id, "setup")).secret);
    }
    const olga = await auth.authenticate(`Bearer ${secrets.get("olga")}`);
    await orgs.create(olga, "acme");
    await orgs.setMember(olga, "acme", "walt", "writer");
    const services: WebServices = {
      modules: unused("modules"),
      plugins: unused("plugins"),
      templates: unused("templates"),
      pregenerate: unused("pregenerate"),
      orgs,
      users,
      bots: createBotService({ meta, access, audit }),
      webhooks: createWebhookService({
        store: meta,
        access,
        audit,
        targets: createTargetPolicy({ allowPrivateTargets: true, allowedTargets: [] }),
      }),
      identities: createIdentityService({
        store: meta,
        audit,
        providers: [{ name: "corp", issuer: "https://corp.example" }],
        localSignIn: false,
      }),
    };
    app = Fastify();
    registerWebUi(app, services, { auth, goHost: "go.test", npmScope: "test", secureCookie: false });
    await app.ready();
  });
  after(async () => {
    await app?.close();
    await meta.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Signs in through the form, and reads the form token from the members page. */
  async function session(user: string): Promise<{ cookie: string; csrf: string }> {
    const login = await app.inject({
      method: "POST",
      url: "/login",
      payload: { token: secrets.get(user) ?? "" },
    });
    assert.equal(login.statusCode, 303, login.body);
    const cookie = String(login.headers["set-cookie"]).split(";")[0] ?? "";
    const page = await app.inject({ url: "/-/settings/tokens", headers: { cookie } });
    assert.equal(page.statusCode, 200);
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? "";
    assert.ok(csrf, "the page carries the form token");
    return { cookie, csrf };
  }
  const members = async () => {
    const org = await meta.getOrganization("acme");
    return (await meta.listMembers(org?.id ?? "")).map((m) => `${m.user.name}:${m.role}`).sort();
  };
  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
  const formType = { "content-type": "application/x-www-form-urlencoded" };

  it("refuses a post without the form token, with another session's, or as JSON", async () => {
    const { cookie, csrf } = await session("olga");
    const other = await session("olga");
    assert.notEqual(csrf, other.csrf, "each session has its own");
    const before = await members();
    for (const [payload, type, message] of [
      [form({ user: "nina", role: "owner" }), formType, /came without its form token/],
      [form({ user: "nina", role: "owner", csrf: other.csrf }), formType, /does not belong to your session/],
      [form({ user: "nina", role: "owner", csrf: `${csrf}x` }), formType, /does not belong to your session/],
      [
        JSON.stringify({ user: "nina", role: "owner" }),
        { "content-type": "application/json" },
        /came without its form token/,
      ],
    ] as const) {
      const res = await app.inject({
        method: "POST",
        url: "/acme/-/members",
        headers: { ...type, cookie },
        payload,
      });
      assert.equal(res.statusCode, 403, res.body);
      assert.match(res.body, message);
    }
    assert.deepEqual(await members(), before);

    const ok = await app.inject({
      method: "POST",
      url: "/acme/-/members",
      headers: { ...formType, cookie },
      payload: form({ user: "nina", role: "reader", csrf }),
    });
    assert.equal(ok.statusCode, 303, ok.body);
    assert.equal(ok.headers.location, "/acme/-/members");
    assert.deepEqual(await members(), ["nina:reader", "olga:owner", "walt:writer"]);
  });

  it("asks for a session when a form comes with a token header or an ended session", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/-/settings/tokens",
      headers: { ...formType, authorization: `Bearer ${secrets.get("olga")}` },
      payload: form({ note: "x" }),
    });
    assert.equal(res.statusCode, 401);
    assert.match(res.body, /this form needs a signed-in session/);
    const gone = await app.inject({
      method: "POST",
      url: "/-/settings/tokens",
      headers: { ...formType, cookie: "pd_session=pd_never-issued" },
      payload: form({ note: "x", csrf: "anything" }),
    });
    assert.equal(gone.statusCode, 401);
  });

  it("shows the service's refusal on the form, with its status", async () => {
    const { cookie, csrf } = await session("walt");
    const res = await app.inject({
      method: "POST",
      url: "/acme/-/members/remove",
      headers: { ...formType, cookie },
      payload: form({ user: "olga", csrf }),
    });
    assert.equal(res.statusCode, 403);
    assert.match(
      res.body,
      /role="alert">user walt may not manage members of acme: that needs an owner of acme/,
    );
    assert.match(res.body, /<h1>Members of acme<\/h1>/);
    assert.ok((await members()).includes("olga:owner"));
  });

  it("creates a token shown once, and revokes it", async () => {
    const { cookie, csrf } = await session("nina");
    const created = await app.inject({
      method: "POST",
      url: "/-/settings/tokens",
      headers: { ...formType, cookie },
      payload: form({ note: "ci", expires: "2031-02-03", scope: "read", csrf }),
    });
    assert.equal(created.statusCode, 200, created.body);
    const secret = /<code>(pd_[^<]+)<\/code>/.exec(created.body)?.[1] ?? "";
    const principal = await auth.authenticate(`Bearer ${secret}`);
    assert.equal(principal.user?.name, "nina");
    assert.deepEqual(principal.scopes, ["read"]);
    assert.equal(principal.tokenExpiresAt, "2031-02-03T23:59:59.000Z");
    const listed = await app.inject({ url: "/-/settings/tokens", headers: { cookie } });
    assert.doesNotMatch(listed.body, new RegExp(secret), "shown once");

    const revoked = await app.inject({
      method: "POST",
      url: `/-/settings/tokens/${principal.tokenId}/revoke`,
      headers: { ...formType, cookie },
      payload: form({ csrf }),
    });
    assert.equal(revoked.statusCode, 303);
    await assert.rejects(auth.authenticate(`Bearer ${secret}`), /was revoked/);
  });

  it("signs out only with the form token, deleting the session's token", async () => {
    const { cookie, csrf } = await session("walt");
    const walt = await meta.getUserByName("walt");
    const sessions = async () =>
      (await meta.listTokens(walt?.id ?? "")).filter((t) => t.note === "web session").length;
    const count = await sessions();
    const refused = await app.inject({ method: "POST", url: "/logout", headers: { ...formType, cookie } });
    assert.equal(refused.statusCode, 403);
    assert.equal(await sessions(), count);
    const out = await app.inject({
      method: "POST",
      url: "/logout",
      headers: { ...formType, cookie },
      payload: form({ csrf }),
    });
    assert.equal(out.statusCode, 303);
    assert.equal(await sessions(), count - 1);
    const after = await app.inject({ url: "/-/settings/tokens", headers: { cookie } });
    assert.equal(after.statusCode, 401, "the old cookie reads as signed out");
  });

  it("lets an organization's owners create a bot, issue it a token shown once, revoke it and delete the bot", async () => {
    const { cookie, csrf } = await session("olga");
    const post = (url: string, fields: Record<string, string>, as = { cookie, csrf }) =>
      app.inject({
        method: "POST",
        url,
        headers: { ...formType, cookie: as.cookie },
        payload: form({ ...fields, csrf: as.csrf }),
      });
    const created = await post("/acme/-/bots", { bot: "acme-ci", role: "writer" });
    assert.equal(created.statusCode, 303, created.body);
    assert.equal(created.headers.location, "/acme/-/bots");
    assert.ok((await members()).includes("acme-ci:writer"));

    const issued = await post("/acme/-/bots/acme-ci/tokens", { note: "release", scope: "read" });
    assert.equal(issued.statusCode, 200, issued.body);
    assert.match(issued.body, /New token \S+ of acme-ci/);
    const secret = /<code>(pd_[^<]+)<\/code>/.exec(issued.body)?.[1] ?? "";
    const bot = await auth.authenticate(`Bearer ${secret}`);
    assert.equal(bot.user?.name, "acme-ci");
    assert.equal(bot.user?.botOf, "acme");
    assert.deepEqual(bot.scopes, ["read"]);
    const page = await app.inject({ url: "/acme/-/bots", headers: { cookie } });
    assert.match(page.body, new RegExp(`data-token="${bot.tokenId}"`));
    assert.doesNotMatch(page.body, new RegExp(secret), "shown once");

    // A writer of the organization is refused on the form; a token of someone else is not this bot's to revoke.
    const walt = await session("walt");
    const byWriter = await post("/acme/-/bots/acme-ci/tokens", { note: "mine" }, walt);
    assert.equal(byWriter.statusCode, 403, byWriter.body);
    assert.match(byWriter.body, /user walt may not manage bots of acme/);
    const olgasOwn = (await auth.authenticate(`Bearer ${secrets.get("olga")}`)).tokenId ?? "";
    const wrongToken = await post(`/acme/-/bots/acme-ci/tokens/${olgasOwn}/revoke`, {});
    assert.equal(wrongToken.statusCode, 404, wrongToken.body);
    assert.match(wrongToken.body, /bot acme-ci holds no token/);

    const revoked = await post(`/acme/-/bots/acme-ci/tokens/${bot.tokenId}/revoke`, {});
    assert.equal(revoked.statusCode, 303, revoked.body);
    await assert.rejects(auth.authenticate(`Bearer ${secret}`), /was revoked/);
    const deleted = await post("/acme/-/bots/acme-ci/delete", {});
    assert.equal(deleted.statusCode, 303, deleted.body);
    assert.ok(!(await members()).includes("acme-ci:writer"));
    const after = await app.inject({ url: "/acme/-/bots", headers: { cookie } });
    assert.match(after.body, /No bots\./);
  });

  it("lists linked sign-ins on the settings page and unlinks one, keeping the last while local sign-in is off", async () => {
    const nina = await meta.getUserByName("nina");
    for (const issuer of ["https://corp.example", "https://old.example"]) {
      await meta.linkIdentity({ issuer, subject: `nina@${issuer.slice(8)}`, userId: nina?.id ?? "" });
    }
    const { cookie, csrf } = await session("nina");
    const page = await app.inject({ url: "/-/settings/tokens", headers: { cookie } });
    assert.match(page.body, /Linked sign-ins \(2\)/);
    assert.match(page.body, /<tr data-identity="https:\/\/corp.example"><td>corp<\/td>/);
    const unlink = (issuer: string, token?: string) =>
      app.inject({
        method: "POST",
        url: "/-/settings/identities/unlink",
        headers: { ...formType, cookie },
        payload: form({ issuer, ...(token ? { csrf: token } : {}) }),
      });
    assert.equal((await unlink("https://old.example")).statusCode, 403, "no form token");
    const done = await unlink("https://old.example", csrf);
    assert.equal(done.statusCode, 303, done.body);
    assert.equal(done.headers.location, "/-/settings/tokens#identities");
    const last = await unlink("corp", csrf);
    assert.equal(last.statusCode, 400, last.body);
    assert.match(last.body, /only way to sign in.*auth\.localSignIn: false/);
    assert.match(last.body, /Linked sign-ins \(1\)/);
    assert.deepEqual(
      (await meta.listIdentities(nina?.id ?? "")).map((i) => i.issuer),
      ["https://corp.example"],
    );
  });

  it("lets an owner subscribe a URL (secret shown once), rotate its secret, redeliver and delete; a writer may not", async () => {
    const { cookie, csrf } = await session("olga");
    const post = (url: string, fields: Record<string, string | string[]>, as = { cookie, csrf }) => {
      const body = new URLSearchParams();
      for (const [k, v] of Object.entries({ ...fields, csrf: as.csrf }))
        for (const one of Array.isArray(v) ? v : [v]) body.append(k, one);
      return app.inject({
        method: "POST",
        url,
        headers: { ...formType, cookie: as.cookie },
        payload: body.toString(),
      });
    };
    const created = await post("/acme/-/webhooks", {
      url: "http://127.0.0.1:9/hook",
      event: ["commit.pushed", "label.moved"],
    });
    assert.equal(created.statusCode, 200, created.body);
    const secret = /<code>(whsec_[^<]+)<\/code>/.exec(created.body)?.[1] ?? "";
    assert.match(secret, /^whsec_/);
    const [hook] = await meta.listWebhooks("acme");
    assert.deepEqual(hook?.events, ["commit.pushed", "label.moved"]);
    const page = await app.inject({ url: "/acme/-/webhooks", headers: { cookie } });
    assert.match(page.body, new RegExp(`data-webhook="${hook?.id}"`));
    assert.doesNotMatch(page.body, new RegExp(secret), "shown once");

    // A writer of the organization manages no subscription of it: the form says so, and nothing changes.
    const walt = await session("walt");
    const byWriter = await post("/acme/-/webhooks", { url: "http://127.0.0.1:9/other" }, walt);
    assert.equal(byWriter.statusCode, 403, byWriter.body);
    assert.equal((await meta.listWebhooks("acme")).length, 1);

    const rotated = await post(`/acme/-/webhooks/${hook?.id}/rotate`, {});
    assert.equal(rotated.statusCode, 200, rotated.body);
    const next = /<code>(whsec_[^<]+)<\/code>/.exec(rotated.body)?.[1] ?? "";
    assert.match(next, /^whsec_/);
    assert.notEqual(next, secret);
    assert.match(rotated.body, /the previous secret signs until/);

    // An event makes a delivery; the page lists it and sends it again as a new one.
    await createEvents({ store: meta, log: { error() {} } }).emit("commit.pushed", {
      owner: "acme",
      target: "acme/app",
      data: { seq: 1 },
    });
    const [delivery] = await meta.listWebhookDeliveries(hook?.id ?? "", 10);
    assert.ok(delivery);
    const listed = await app.inject({ url: "/acme/-/webhooks", headers: { cookie } });
    assert.match(listed.body, new RegExp(`data-delivery="${delivery.id}"`));
    const elsewhere = await post(`/acme/-/webhooks/${hook?.id}/deliveries/not-a-delivery/redeliver`, {});
    assert.equal(elsewhere.statusCode, 404, elsewhere.body);
    const again = await post(`/acme/-/webhooks/${hook?.id}/deliveries/${delivery.id}/redeliver`, {});
    assert.equal(again.statusCode, 303, again.body);
    assert.equal((await meta.listWebhookDeliveries(hook?.id ?? "", 10)).length, 2);

    const deleted = await post(`/acme/-/webhooks/${hook?.id}/delete`, {});
    assert.equal(deleted.statusCode, 303, deleted.body);
    assert.deepEqual(await meta.listWebhooks("acme"), []);
  });
});
