// Company sign-in with OpenID Connect end to end (docs/sso.md): a real provider (oidc-provider) on loopback with
// its own keys, headless Chromium signing in through its login and consent pages, `protodepot login --sso`
// approved in the browser, groups mapped to organization roles and taken back at the next sign-in, and
// auth.localSignIn: false refusing the web's token form.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { browserMissing, launchChromium, withScreenshot } from "./support/browser.js";
import { cliOk } from "./support/cli.js";
import { startTestIdp, type TestIdp } from "./support/oidc-provider.js";
import {
  adminToken,
  callApi,
  cliPath,
  makeDataDir,
  repoRoot,
  startTestServer,
  type TestServer,
} from "./support/server.js";

const skip = browserMissing();

/** The browser reaches loopback only: the provider's pages import web fonts from elsewhere. */
async function loopbackContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext();
  await context.route("**/*", (route) => {
    const host = new URL(route.request().url()).hostname;
    return host === "127.0.0.1" || host === "localhost" ? route.continue() : route.abort();
  });
  return context;
}

/** The provider's development login form (any password) and its consent page, as a person fills them in. */
async function signInAtProvider(page: Page, login: string): Promise<void> {
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill("any password");
  await page.locator('button[type="submit"]').click();
  await page.getByRole("button", { name: "Continue" }).click();
}

describe("sign-in with OpenID Connect", { skip }, () => {
  let idp: TestIdp;
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;
  let browser: Browser;

  const api = async (method: string, body: unknown, token: string = adminToken) => {
    const res = await callApi(server.url, method, body, token);
    const text = await res.text();
    assert.equal(res.status, 200, `${method}: ${text}`);
    return JSON.parse(text) as Record<string, unknown>;
  };
  const rolesOf = async (user: string) => {
    const roles: Record<string, string> = {};
    for (const org of ["acme", "tools"]) {
      const { members } = (await api("OrganizationService/ListMembers", { organization: org })) as {
        members: { user: string; role: string }[];
      };
      const role = members.find((m) => m.user === user)?.role;
      if (role) roles[org] = role;
    }
    return roles;
  };
  const events = async (action: string) =>
    ((await api("AuditService/ListAuditEvents", { action })).events ?? []) as {
      actor: string;
      target: string;
      after: string;
    }[];

  /** Signs in through the provider in a fresh browser; answers the page text we end on. */
  const webSignIn = async (
    login: string,
    name: string,
  ): Promise<{ text: string; status: number | undefined }> => {
    const context = await loopbackContext(browser);
    const page = await context.newPage();
    try {
      return await withScreenshot(page, name, async () => {
        await page.goto(`${server.url}/login`);
        let status: number | undefined;
        page.on("response", (r) => {
          if (r.url().includes("/auth/oidc/corp/callback")) status = r.status();
        });
        await page.getByRole("link", { name: "Sign in with Corp SSO" }).click();
        await signInAtProvider(page, login);
        // Back at our server: a sign-in page of ours (whose refresh goes home), or an error page.
        await page.waitForURL((url) => url.href.startsWith(server.url), { timeout: 30_000 });
        if (status === 200) await page.waitForURL(`${server.url}/`, { timeout: 30_000 });
        await page.waitForLoadState("load");
        return { text: await page.locator("body").innerText(), status };
      });
    } finally {
      await context.close();
    }
  };

  /** Runs `protodepot login URL --sso` until it prints the URL to approve its code at. */
  const startSsoLogin = async (configHome: string) => {
    const child = spawn(process.execPath, [cliPath, "login", server.url, "--sso"], {
      cwd: repoRoot,
      env: { ...process.env, XDG_CONFIG_HOME: configHome },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((done) =>
      child.once("exit", (code) => done({ code, stdout, stderr })),
    );
    const complete = await new Promise<string>((resolve, reject) => {
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
        const m = /\(or open (\S+)\)/.exec(stderr);
        if (m?.[1]) resolve(m[1]);
      });
      child.once("exit", () => reject(new Error(`login --sso exited early:\n${stderr}${stdout}`)));
    });
    return { complete, exited, stderr: () => stderr };
  };

  before(async () => {
    idp = await startTestIdp({
      accounts: {
        "alice-sub": { username: "alice", groups: ["payments-team"] },
        "bob-sub": { username: "bob", groups: ["tools-team"] },
        "rita-sub": { username: "rita", groups: [] },
      },
    });
    data = await makeDataDir();
    const oidc = [
      {
        name: "corp",
        displayName: "Corp SSO",
        issuer: idp.issuer,
        clientId: idp.clientId,
        clientSecret: idp.clientSecret,
        allowInsecureIssuer: true,
        scopes: ["profile", "groups"],
        orgMapping: {
          "payments-team": { org: "acme", role: "writer" },
          "tools-team": [{ org: "tools", role: "writer" }],
        },
      },
    ];
    server = await startTestServer({
      dataDir: data.dir,
      // Failed sign-ins of one address are folded per window: a short one keeps each test's failure its own event.
      env: { PROTODEPOT_AUTH_OIDC: JSON.stringify(oidc), PROTODEPOT_AUDIT_FAILURE_WINDOW_MS: "1000" },
      orgs: ["acme", "tools"],
    });
    idp.register([`${server.url}/auth/oidc/corp/callback`]);
    await api("UserService/CreateUser", { name: "rita" });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    await idp?.close();
    await data?.remove();
  });

  it("signs a person in through the provider, provisions the user and maps groups to roles", async () => {
    const { text } = await webSignIn("alice-sub", "oidc-first-sign-in");
    assert.match(text, /Signed in as alice/);
    assert.deepEqual(await rolesOf("alice"), { acme: "writer" });
    const signIns = await events("sso.sign-in");
    assert.ok(
      signIns.some((e) => e.actor === "alice" && JSON.parse(e.after).created === true),
      JSON.stringify(signIns),
    );
    assert.ok((await events("user.create")).some((e) => e.target === "user alice"));
  });

  it("takes back a mapped role when the group is gone at the next sign-in, never a hand-given one", async () => {
    // By hand, after the first sign-in: alice reads tools.
    await api("OrganizationService/AddMember", { organization: "tools", user: "alice", role: "reader" });
    const alice = idp.accounts.get("alice-sub");
    assert.ok(alice);
    alice.groups = ["tools-team"];
    const { text } = await webSignIn("alice-sub", "oidc-group-removed");
    assert.match(text, /Signed in as alice/);
    // acme came from payments-team and went with it; tools was given by hand, which tools-team does not override.
    assert.deepEqual(await rolesOf("alice"), { tools: "reader" });
    assert.ok((await events("member.remove")).some((e) => e.target === "member alice of acme"));
  });

  it("signs the CLI in with the device flow, the code approved in a browser", async () => {
    const config = await makeDataDir("protodepot-oidc-cli-");
    const cli = await startSsoLogin(config.dir);
    assert.match(cli.stderr(), /enter the code [A-Z-]+/);
    const context = await loopbackContext(browser);
    const page = await context.newPage();
    try {
      await withScreenshot(page, "oidc-device-approval", async () => {
        await page.goto(cli.complete);
        await page.getByRole("button", { name: "Continue" }).first().click();
        await signInAtProvider(page, "bob-sub");
        await page.getByText(/Sign-in Success/i).waitFor({ timeout: 30_000 });
      });
    } finally {
      await context.close();
    }
    const { code, stdout, stderr } = await cli.exited;
    assert.equal(code, 0, stderr + stdout);
    assert.match(stdout, /logged in to .* as bob/);
    const settings = JSON.parse(await readFile(join(config.dir, "protodepot", "config.json"), "utf8")) as {
      remotes: Record<string, { token: string }>;
    };
    const token = Object.values(settings.remotes)[0]?.token ?? "";
    const who = await api("UserService/WhoAmI", {}, token);
    assert.equal((who.user as { name: string }).name, "bob");
    assert.deepEqual(await rolesOf("bob"), { tools: "writer" });
    assert.ok(
      (await events("sso.sign-in")).some((e) => e.actor === "bob" && JSON.parse(e.after).via === "cli"),
    );
    await config.remove();
  });

  it("fails login --sso clearly when the person aborts at the provider, storing nothing", async () => {
    const config = await makeDataDir("protodepot-oidc-cli-");
    const cli = await startSsoLogin(config.dir);
    const context = await loopbackContext(browser);
    const page = await context.newPage();
    try {
      await withScreenshot(page, "oidc-device-abort", async () => {
        await page.goto(cli.complete);
        await page.getByRole("button", { name: "[ Abort ]" }).click();
        await page.waitForLoadState("load");
      });
    } finally {
      await context.close();
    }
    const { code, stderr } = await cli.exited;
    assert.notEqual(code, 0);
    assert.match(stderr, /the sign-in was denied at corp/);
    await assert.rejects(readFile(join(config.dir, "protodepot", "config.json")), { code: "ENOENT" });
    const failed = await events("auth.failed");
    assert.ok(
      failed.some((e) => JSON.parse(e.after).reason.includes("denied at corp")),
      JSON.stringify(failed),
    );
    await config.remove();
  });

  it("refuses an account whose name is a local user's, saying what to do, and audits the failure", async () => {
    // Failed sign-ins of one address fold into one event per audit.failureWindowMs (1 s here), under the window's
    // first reason: the previous test's refusals must be a window behind, or this one's reason is only counted.
    await new Promise((r) => setTimeout(r, 1_100));
    const { text, status } = await webSignIn("rita-sub", "oidc-name-clash");
    assert.equal(status, 400);
    assert.match(text, /belongs to an existing user of this server/);
    assert.match(text, /linkExistingUsers/);
    const failed = await events("auth.failed");
    assert.ok(
      failed.some((e) => JSON.parse(e.after).reason.includes("user name rita")),
      JSON.stringify(failed),
    );
    // The local rita is untouched and has no provider account linked: a second attempt is refused the same way.
    assert.deepEqual(await rolesOf("rita"), {});
  });

  it("audits each refused web sign-in once: cancelled at the provider, a callback without its flow", async () => {
    // Failed sign-ins of one address fold per window (1 s here): each refusal below starts a window of its own,
    // and a second record of one refusal would show as one more event once the window ends.
    const waitOutWindow = () => new Promise((r) => setTimeout(r, 1_100));
    const reasons = async (text: string) =>
      (await events("auth.failed")).filter((e) => JSON.parse(e.after).reason.includes(text)).length;
    await waitOutWindow();
    const deniedBefore = await reasons("denied at corp");
    const context = await loopbackContext(browser);
    const page = await context.newPage();
    let status: number | undefined;
    try {
      await withScreenshot(page, "oidc-web-cancel", async () => {
        page.on("response", (r) => {
          if (r.url().includes("/auth/oidc/corp/callback")) status = r.status();
        });
        await page.goto(`${server.url}/login`);
        await page.getByRole("link", { name: "Sign in with Corp SSO" }).click();
        await page.getByRole("link", { name: "[ Cancel ]" }).click();
        await page.waitForURL((url) => url.href.startsWith(server.url), { timeout: 30_000 });
        await page.waitForLoadState("load");
        assert.match(await page.locator("body").innerText(), /the sign-in was denied at corp/);
      });
    } finally {
      await context.close();
    }
    assert.equal(status, 401);
    await waitOutWindow();
    const forged = await fetch(`${server.url}/auth/oidc/corp/callback?code=stolen&state=guessed`);
    assert.equal(forged.status, 400);
    assert.match(await forged.text(), /start again from the sign-in page/);
    await waitOutWindow();
    assert.equal(await reasons("denied at corp"), deniedBefore + 1);
    assert.equal(await reasons("a callback without the flow"), 1);
  });

  it("lists and unlinks linked accounts: a person on the settings page, an admin through the CLI", async () => {
    const context = await loopbackContext(browser);
    const page = await context.newPage();
    try {
      await withScreenshot(page, "oidc-unlink", async () => {
        await page.goto(`${server.url}/login`);
        await page.getByRole("link", { name: "Sign in with Corp SSO" }).click();
        await signInAtProvider(page, "alice-sub");
        await page.waitForURL(`${server.url}/`, { timeout: 30_000 });
        await page.goto(`${server.url}/-/settings/tokens`);
        const row = page.locator(`tr[data-identity="${idp.issuer}"]`);
        assert.match(await row.innerText(), /corp\s+.*alice-sub/s);
        assert.doesNotMatch(await row.innerText(), /never/, "the sign-in just made is its last");
        // A form post without the page's form token is refused (src/web/csrf.ts), and unlinks nothing.
        const cookie = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
        const forged = await fetch(`${server.url}/-/settings/identities/unlink`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded", cookie, origin: server.url },
          body: new URLSearchParams({ issuer: idp.issuer }).toString(),
          redirect: "manual",
        });
        assert.equal(forged.status, 403);
        assert.equal(await row.count(), 1);
        await page.getByRole("button", { name: "Unlink corp" }).click();
        await page.waitForURL(/\/-\/settings\/tokens#identities/);
        await page.getByRole("heading", { name: "Your tokens" }).waitFor();
        assert.equal(await row.count(), 0);
        assert.doesNotMatch(await page.locator("body").innerText(), /Linked sign-ins/);
      });
    } finally {
      await context.close();
    }
    const unlinked = await events("identity.unlink");
    assert.ok(
      unlinked.some((e) => e.actor === "alice" && e.target === "user alice"),
      JSON.stringify(unlinked),
    );
    // An admin, for another user (bob signed in with the device flow above).
    const env = { PROTODEPOT_REMOTE: server.url, PROTODEPOT_TOKEN: adminToken };
    const listed = (await cliOk(["account", "identities", "--user", "bob", "--json"], env)).stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { provider: string; subject: string; lastSignInTime: string });
    assert.deepEqual(
      listed.map((i) => [i.provider, i.subject]),
      [["corp", "bob-sub"]],
    );
    assert.ok(listed[0]?.lastSignInTime);
    assert.match(
      (await cliOk(["account", "unlink", "corp", "--user", "bob"], env)).stdout,
      /unlinked corp account bob-sub/,
    );
    assert.equal((await cliOk(["account", "identities", "--user", "bob", "--json"], env)).stdout, "");
    assert.ok((await events("identity.unlink")).some((e) => e.actor === "admin" && e.target === "user bob"));
  });

  it("with auth.localSignIn false, refuses the web's token form while tokens keep working", async () => {
    const localData = await makeDataDir();
    const oidc = [
      { name: "corp", displayName: "Corp SSO", issuer: idp.issuer, clientId: "x", allowInsecureIssuer: true },
    ];
    const strict = await startTestServer({
      dataDir: localData.dir,
      env: { PROTODEPOT_AUTH_OIDC: JSON.stringify(oidc), PROTODEPOT_AUTH_LOCAL_SIGN_IN: "false" },
    });
    try {
      const page = await (await fetch(`${strict.url}/login`)).text();
      assert.match(page, /Sign in with Corp SSO/);
      assert.doesNotMatch(page, /name="token"/);
      const res = await fetch(`${strict.url}/login`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token: adminToken }).toString(),
        redirect: "manual",
      });
      assert.equal(res.status, 403);
      assert.match(await res.text(), /turned off on this server \(auth.localSignIn\)/);
      assert.equal(res.headers.get("set-cookie"), null);
      const listed = await callApi(
        strict.url,
        "AuditService/ListAuditEvents",
        { action: "auth.failed" },
        adminToken,
      );
      const failed = ((await listed.json()) as { events?: { after: string }[] }).events ?? [];
      assert.deepEqual(
        failed.map((e) => JSON.parse(e.after).reason),
        [
          "web sign-in: a token was posted, but signing in with a token is turned off (auth.localSignIn: false)",
        ],
      );
      const who = await callApi(strict.url, "UserService/WhoAmI", {}, adminToken);
      assert.equal(who.status, 200);
      const home = await fetch(`${strict.url}/`, { headers: { authorization: `Bearer ${adminToken}` } });
      assert.match(await home.text(), /Signed in as <strong>admin<\/strong>/);
    } finally {
      await strict.stop();
      await localData.remove();
    }
  });
});
