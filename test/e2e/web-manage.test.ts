// Management in the browser: real headless Chromium creates and revokes a token, manages an organization's
// members and bots, changes a module's visibility and push policy and creates a template version, each checked afterwards
// through the real CLI; a form posted without its form token is refused; signing out leaves no token row behind.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { browserMissing, launchChromium, withScreenshot } from "./support/browser.js";
import { cliOk, runCli } from "./support/cli.js";
import {
  adminToken,
  callApi,
  makeDataDir,
  repoRoot,
  startTestServer,
  type TestServer,
} from "./support/server.js";

const b64 = (text: string) => Buffer.from(text).toString("base64");

describe("web management", { skip: browserMissing() }, () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;
  let browser: Browser;
  let work: string;
  const tokens = new Map<string, string>();
  /** The CLI's environment, signed in as `user`. */
  const as = (user: string) => ({
    PROTODEPOT_REMOTE: server.url,
    PROTODEPOT_TOKEN: user === "admin" ? adminToken : (tokens.get(user) ?? ""),
    XDG_CONFIG_HOME: join(work, "config"),
  });
  const cli = async (user: string, ...args: string[]) => (await cliOk(args, as(user))).stdout;

  const ok = async (method: string, body: unknown) => {
    const res = await callApi(server.url, method, body, adminToken);
    const text = await res.text();
    assert.equal(res.status, 200, `${method}: ${text}`);
    return JSON.parse(text) as Record<string, unknown>;
  };

  before(async () => {
    data = await makeDataDir();
    work = await mkdtemp(join(tmpdir(), "protodepot-web-manage-"));
    server = await startTestServer({ dataDir: data.dir, orgs: ["acme"] });
    for (const [name, role] of [
      ["olga", "owner"],
      ["walt", "writer"],
      ["nina", undefined],
    ] as const) {
      await ok("UserService/CreateUser", { name });
      tokens.set(name, (await ok("UserService/CreateToken", { user: name, note: "setup" })).token as string);
      if (role) await ok("OrganizationService/AddMember", { organization: "acme", user: name, role });
    }
    const es = join(repoRoot, "node_modules/.bin/protoc-gen-es");
    await ok("PluginService/CreatePlugin", { plugin: "acme/tsplug", visibility: "public" });
    for (const version of ["v1.0.0", "v1.1.0"]) {
      await ok("PluginService/CreatePluginVersion", { plugin: "acme/tsplug", version, command: [es] });
    }
    await ok("TemplateService/CreateTemplate", {
      template: "acme/tstpl",
      visibility: "public",
      plugins: [{ owner: "acme", name: "tsplug", parameter: "target=ts" }],
    });
    await ok("TemplateService/CreateTemplateVersion", {
      template: "acme/tstpl",
      pluginVersions: [{ owner: "acme", name: "tsplug", version: "v1.0.0" }],
    });
    await ok("ModuleService/CreateModule", { module: "acme/ledger", visibility: "public" });
    await ok("ModuleService/Push", {
      files: [
        { path: "buf.yaml", content: b64("version: v1\nname: buf.build/acme/ledger\n") },
        {
          path: "acme/ledger/v1/ledger.proto",
          content: b64('syntax = "proto3";\npackage acme.ledger.v1;\nmessage Entry { string id = 1; }\n'),
        },
      ],
    });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    await data?.remove();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** A browser context signed in as `user` through the sign-in form. */
  async function signedIn(user: string): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}/login`);
    await page.getByLabel("Token").fill(tokens.get(user) ?? "");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${server.url}/`);
    assert.match(await page.locator("header").innerText(), new RegExp(`Signed in as ${user}`));
    return { context, page };
  }

  /** The session cookie's `name=value`, for posts sent from outside the page. */
  async function cookieOf(context: BrowserContext): Promise<string> {
    const session = (await context.cookies()).find((c) => c.name === "pd_session");
    assert.ok(session, "signed in");
    return `${session.name}=${session.value}`;
  }

  it("creates a token (shown once) and revokes it", async () => {
    const { context, page } = await signedIn("olga");
    await withScreenshot(page, "web-manage-tokens", async () => {
      await page.locator("header").getByRole("link", { name: "Settings" }).click();
      await page.waitForURL(`${server.url}/-/settings/tokens`);
      await page.getByLabel("Note").fill("ci laptop");
      await page.getByLabel(/Expires at the end of/).fill("2030-06-30");
      await page.getByRole("button", { name: "Create token" }).click();
      const secret = (await page.locator(".new-token code").innerText()).trim();
      assert.match(secret, /^pd_/);
      const id = (await page.locator("#new-token").innerText()).replace("New token ", "").trim();

      // The new token works with the CLI, and `token list` shows it with its note and expiry.
      assert.match(
        await cliOk(["whoami"], { ...as("olga"), PROTODEPOT_TOKEN: secret }).then((r) => r.stdout),
        /olga/,
      );
      const listed = await cli("olga", "token", "list");
      const row = listed.split("\n").find((l) => l.startsWith(id)) ?? "";
      assert.match(row, /ci laptop/);
      assert.match(row, /2030-06-30T23:59:59/);

      // Shown once: the page, loaded again, lists the token without its secret.
      await page.goto(`${server.url}/-/settings/tokens`);
      assert.doesNotMatch(await page.content(), new RegExp(secret));
      await page.getByRole("button", { name: `Revoke token ${id}` }).click();
      await page.waitForURL(`${server.url}/-/settings/tokens`);
      assert.equal(await page.locator(`tr[data-token="${id}"]`).count(), 0);
      const revoked = await runCli(["whoami"], { ...as("olga"), PROTODEPOT_TOKEN: secret });
      assert.notEqual(revoked.code, 0);
      assert.match(revoked.stderr, /revoked/);
      assert.doesNotMatch(await cli("olga", "token", "list"), new RegExp(id));

      // A refusal shows on the form: an expiry in the past.
      await page.getByLabel("Note").fill("old");
      await page.getByLabel(/Expires at the end of/).fill("2020-01-01");
      await page.getByRole("button", { name: "Create token" }).click();
      assert.match(await page.locator("[role=alert]").innerText(), /not in the future/);
      assert.equal(await page.locator(".new-token").count(), 0);
    });
    await context.close();
  });

  it("adds a member, changes its role and removes it; a writer is refused", async () => {
    const { context, page } = await signedIn("olga");
    const members = async () => cli("admin", "org", "member", "list", "acme");
    await withScreenshot(page, "web-manage-members", async () => {
      await page.goto(`${server.url}/acme`);
      await page.getByRole("link", { name: "Manage members" }).click();
      await page.waitForURL(`${server.url}/acme/-/members`);
      await page.getByLabel("User", { exact: true }).fill("nina");
      await page.getByLabel("Role", { exact: true }).selectOption("reader");
      await page.getByRole("button", { name: "Add member" }).click();
      await page.waitForURL(`${server.url}/acme/-/members`);
      assert.match(await members(), /nina\s+reader/);

      await page.getByLabel("Role of nina", { exact: true }).selectOption("writer");
      await page.getByRole("button", { name: "Change role of nina" }).click();
      await page.waitForURL(`${server.url}/acme/-/members`);
      assert.match(await members(), /nina\s+writer/);

      await page.getByRole("button", { name: "Remove nina" }).click();
      await page.waitForURL(`${server.url}/acme/-/members`);
      assert.doesNotMatch(await members(), /nina/);

      // A user who does not exist: the form says so.
      await page.getByLabel("User", { exact: true }).fill("nobody");
      await page.getByRole("button", { name: "Add member" }).click();
      assert.match(await page.locator("[role=alert]").innerText(), /user nobody does not exist/);
    });
    await context.close();

    const writer = await signedIn("walt");
    await withScreenshot(writer.page, "web-manage-members-writer", async () => {
      await writer.page.goto(`${server.url}/acme/-/members`);
      await writer.page.getByRole("button", { name: "Remove olga" }).click();
      assert.match(
        await writer.page.locator("[role=alert]").innerText(),
        /may not manage members of acme: that needs an owner of acme/,
      );
      assert.match(await members(), /olga\s+owner/);
    });
    await writer.context.close();
  });

  it("creates a bot, issues it a token shown once, revokes it and deletes the bot", async () => {
    const { context, page } = await signedIn("olga");
    await withScreenshot(page, "web-manage-bots", async () => {
      await page.goto(`${server.url}/acme/-/members`);
      await page.getByRole("link", { name: "bots" }).click();
      await page.waitForURL(`${server.url}/acme/-/bots`);
      await page.getByLabel(/^Name/).fill("acme-release");
      await page.getByLabel("Role").selectOption("writer");
      await page.getByRole("button", { name: "Create bot" }).click();
      await page.waitForURL(`${server.url}/acme/-/bots`);
      assert.match(await cli("olga", "bot", "list", "acme"), /acme-release\s+writer/);

      await page.getByLabel("Note of a new token of acme-release").fill("release job");
      await page.getByRole("button", { name: "Create a token for acme-release" }).click();
      const secret = (await page.locator(".new-token code").innerText()).trim();
      assert.match(secret, /^pd_/);
      const whoami = await cliOk(["whoami"], { ...as("olga"), PROTODEPOT_TOKEN: secret });
      assert.match(whoami.stdout, /acme-release/);
      const id =
        (await page.locator('section[data-bot="acme-release"] tr[data-token]').getAttribute("data-token")) ??
        "";
      assert.match(
        await cli("olga", "bot", "token", "list", "acme-release"),
        new RegExp(`${id}.*release job`),
      );

      await page.getByRole("button", { name: `Revoke token ${id} of acme-release` }).click();
      await page.waitForURL(`${server.url}/acme/-/bots`);
      const revoked = await runCli(["whoami"], { ...as("olga"), PROTODEPOT_TOKEN: secret });
      assert.match(revoked.stderr, /revoked/);
      await page.getByRole("button", { name: "Delete bot acme-release" }).click();
      await page.waitForURL(`${server.url}/acme/-/bots`);
      assert.doesNotMatch(await cli("olga", "bot", "list", "acme"), /acme-release/);
    });
    await context.close();
  });

  it("changes a module's visibility and push policy; a writer may not change visibility", async () => {
    const writer = await signedIn("walt");
    await withScreenshot(writer.page, "web-manage-module-writer", async () => {
      await writer.page.goto(`${server.url}/acme/ledger`);
      await writer.page.locator("main").getByRole("link", { name: "Settings" }).click();
      await writer.page.waitForURL(`${server.url}/acme/ledger/-/settings`);
      await writer.page.getByLabel(/Private/).check();
      await writer.page.getByRole("button", { name: "Save settings" }).click();
      assert.match(
        await writer.page.locator("[role=alert]").innerText(),
        /may not change the visibility of modules of acme: that needs an owner of acme/,
      );
      assert.match(await cli("admin", "module", "update", "acme/ledger"), /is public/);
    });
    await writer.context.close();

    const { context, page } = await signedIn("olga");
    await withScreenshot(page, "web-manage-module", async () => {
      await page.goto(`${server.url}/acme/ledger/-/settings`);
      await page.getByLabel(/Private/).check();
      await page.getByLabel("Description").fill("The ledger of acme");
      await page.getByRole("button", { name: "Save settings" }).click();
      await page.waitForURL(`${server.url}/acme/ledger/-/settings#general`);
      const after = await cli("admin", "module", "update", "acme/ledger");
      assert.match(after, /module acme\/ledger is private/);
      // Anonymous callers no longer see it.
      assert.equal((await fetch(`${server.url}/acme/ledger`)).status, 404);

      await page.getByLabel("Breaking changes").selectOption("reject");
      await page.getByLabel("Breaking category").selectOption("WIRE_JSON");
      await page.getByLabel("Lint", { exact: true }).selectOption("warn");
      await page.getByLabel("COMMENTS").check();
      await page.getByRole("button", { name: "Save push policy" }).click();
      await page.waitForURL(`${server.url}/acme/ledger/-/settings#push-policy`);
      assert.match(
        await cli("admin", "module", "update", "acme/ledger"),
        /push policy: breaking reject \(WIRE_JSON\), lint warn \(STANDARD, COMMENTS\)/,
      );
    });
    await context.close();
  });

  it("creates a template version pinning the chosen plugin version", async () => {
    const { context, page } = await signedIn("walt");
    await withScreenshot(page, "web-manage-template", async () => {
      await page.goto(`${server.url}/acme/templates/tstpl`);
      await page.getByLabel("1. acme/tsplug").selectOption("v1.1.0");
      await page.getByRole("button", { name: "Create version" }).click();
      await page.waitForURL(`${server.url}/acme/templates/tstpl`);
      assert.match(await page.locator("main").innerText(), /v2\s+acme\/tsplug:v1\.1\.0/);
      const versions = await cli("admin", "template", "version", "list", "acme/tstpl");
      assert.match(versions, /v2\s+acme\/tsplug:v1\.1\.0/);

      // The same pins again: refused on the form, nothing created.
      await page.getByLabel("1. acme/tsplug").selectOption("v1.1.0");
      await page.getByRole("button", { name: "Create version" }).click();
      assert.ok(await page.locator("[role=alert]").isVisible());
      assert.doesNotMatch(await cli("admin", "template", "version", "list", "acme/tstpl"), /v3/);
    });
    await context.close();
  });

  it("refuses a form posted without its form token, or with another session's", async () => {
    const { context, page } = await signedIn("olga");
    const other = await signedIn("olga");
    const cookie = await cookieOf(context);
    const post = (path: string, form: Record<string, string>) =>
      fetch(`${server.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", cookie },
        body: new URLSearchParams(form).toString(),
        redirect: "manual",
      });
    // The form token of the other session, read from its page.
    await other.page.goto(`${server.url}/acme/-/members`);
    const otherCsrf = await other.page.locator('input[name="csrf"]').first().inputValue();
    await page.goto(`${server.url}/acme/-/members`);
    const csrf = await page.locator('input[name="csrf"]').first().inputValue();
    assert.notEqual(csrf, otherCsrf);

    const without = await post("/acme/-/members", { user: "nina", role: "owner" });
    assert.equal(without.status, 403);
    assert.match(await without.text(), /came without its form token/);
    const wrong = await post("/acme/-/members", { user: "nina", role: "owner", csrf: otherCsrf });
    assert.equal(wrong.status, 403);
    assert.match(await wrong.text(), /does not belong to your session/);
    const json = await fetch(`${server.url}/acme/ledger/-/settings`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie },
      body: JSON.stringify({ visibility: "public" }),
      redirect: "manual",
    });
    assert.equal(json.status, 403);
    assert.doesNotMatch(await cli("admin", "org", "member", "list", "acme"), /nina/);
    assert.match(await cli("admin", "module", "update", "acme/ledger"), /is private/);

    // The same post with the session's own token goes through: the refusals above were the token's doing.
    const right = await post("/acme/-/members", { user: "nina", role: "reader", csrf });
    assert.equal(right.status, 303);
    assert.match(await cli("admin", "org", "member", "list", "acme"), /nina\s+reader/);
    await context.close();
    await other.context.close();
  });

  it("signs out by deleting the session's token: no row is left behind", async () => {
    const { context, page } = await signedIn("nina");
    await withScreenshot(page, "web-manage-sign-out", async () => {
      await page.goto(`${server.url}/-/settings/tokens`);
      const row = page.locator("tr", { hasText: "this session" });
      const id = (await row.locator("code").innerText()).trim();
      assert.match(await cli("nina", "token", "list"), new RegExp(`${id}\\s+web session`));
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.waitForURL(`${server.url}/`);
      assert.match(await page.locator("header").innerText(), /Sign in/);
      assert.doesNotMatch(await cli("nina", "token", "list"), /web session/);
      // Not revoked but gone: revoking it finds nothing (a revoked row would answer with the token).
      const revoke = await runCli(["token", "revoke", id], as("nina"));
      assert.notEqual(revoke.code, 0);
      assert.match(revoke.stderr, /you hold no token/);
    });
    await context.close();
  });
});
