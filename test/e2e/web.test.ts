// The web UI end to end: no page shows a private module, plugin or template to those who may not read it (the
// same callers and things as the authorization matrix), and real headless Chromium browses the demo, copies
// an install command, signs in and out.
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { browserMissing, launchChromium, withScreenshot } from "./support/browser.js";
import {
  adminToken,
  callApi,
  makeDataDir,
  repoRoot,
  startTestServer,
  type TestServer,
} from "./support/server.js";

const b64 = (text: string | Buffer) => Buffer.from(text).toString("base64");

async function exampleFiles(dir: string): Promise<{ path: string; content: Buffer }[]> {
  const out: { path: string; content: Buffer }[] = [];
  const walk = async (rel: string) => {
    for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(path);
      else out.push({ path, content: await readFile(join(dir, path)) });
    }
  };
  await walk("");
  return out;
}

const acmeModule = (name: string) => [
  { path: "buf.yaml", content: b64(`version: v1\nname: buf.build/acme/${name}\n`) },
  { path: "README.md", content: b64(`# acme/${name}\n\nThe ${name} module.\n`) },
  {
    path: `acme/${name}/v1/m.proto`,
    content: b64(
      `syntax = "proto3";\npackage acme.${name}.v1;\n// A thing of ${name}.\nmessage M { string id = 1; }\n`,
    ),
  },
];

describe("web UI", () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;
  const tokens = new Map<string, string>();
  let paymentsFirst = "";

  const ok = async (method: string, body: unknown, token: string = adminToken) => {
    const res = await callApi(server.url, method, body, token);
    const text = await res.text();
    assert.equal(res.status, 200, `${method}: ${text}`);
    return JSON.parse(text) as Record<string, unknown>;
  };
  const get = async (path: string, token?: string) => {
    const res = await fetch(
      `${server.url}${path}`,
      token ? { headers: { authorization: `Bearer ${token}` } } : {},
    );
    return { status: res.status, body: await res.text() };
  };

  before(async () => {
    data = await makeDataDir();
    server = await startTestServer({ dataDir: data.dir, args: ["--demo"], orgs: ["acme"] });
    for (const name of ["rita", "otto"]) {
      await ok("UserService/CreateUser", { name });
      tokens.set(name, (await ok("UserService/CreateToken", { user: name })).token as string);
    }
    await ok("OrganizationService/AddMember", { organization: "acme", user: "rita", role: "reader" });
    const es = join(repoRoot, "node_modules/.bin/protoc-gen-es");
    for (const [short, vis] of [
      ["pub", "public"],
      ["priv", "private"],
    ] as const) {
      await ok("PluginService/CreatePlugin", { plugin: `acme/${short}plug`, visibility: vis });
      await ok("PluginService/CreatePluginVersion", {
        plugin: `acme/${short}plug`,
        version: "v1.0.0",
        command: [es],
      });
      await ok("TemplateService/CreateTemplate", {
        template: `acme/${short}tpl`,
        visibility: vis,
        plugins: [{ owner: "acme", name: `${short}plug`, parameter: "target=ts" }],
      });
      await ok("TemplateService/CreateTemplateVersion", {
        template: `acme/${short}tpl`,
        pluginVersions: [{ owner: "acme", name: `${short}plug`, version: "v1.0.0" }],
      });
      await ok("ModuleService/CreateModule", { module: `acme/${short}mod`, visibility: vis });
      await ok("ModuleService/Push", { files: acmeModule(`${short}mod`) });
    }
    // A second commit of the demo module, so that choosing the first one changes the synthetic version.
    const payments = await exampleFiles(join(repoRoot, "examples/payments"));
    const first = await ok("ModuleService/ListCommits", { module: "demo/payments" });
    paymentsFirst = ((first.commits as { id: string }[])[0] as { id: string }).id;
    await ok("ModuleService/Push", {
      files: payments.map((f) => ({
        path: f.path,
        content: b64(f.path === "README.md" ? `${f.content.toString()}\nSecond commit.\n` : f.content),
      })),
    });
  });
  after(async () => {
    await server?.stop();
    await data?.remove();
  });

  describe("privacy", () => {
    const privateNames = ["privmod", "privplug", "privtpl"];
    // Every page, with the private things' own pages; the same page of a thing that exists nowhere must answer alike.
    const pages = [
      "/",
      "/?q=acme",
      "/?q=priv",
      "/acme",
      "/acme/pubmod",
      "/acme/pubmod/docs/main",
      "/acme/pubmod/tree/main/README.md",
      "/demo/payments",
      "/acme/templates/pubtpl",
      "/acme/plugins/pubplug",
      "/acme/privmod",
      "/acme/privmod?ref=main",
      "/acme/privmod/docs/main",
      "/acme/privmod/tree/main/README.md",
      "/acme/privmod/tree/main/acme/privmod/v1/m.proto",
      "/acme/templates/privtpl",
      "/acme/plugins/privplug",
      "/-/web.css",
      "/-/web.js",
      "/login",
    ];
    const swap = (text: string) => privateNames.reduce((t, n) => t.replaceAll(n, "x".repeat(n.length)), text);

    for (const who of ["anonymous", "otto"]) {
      it(`shows ${who} nothing private, and hidden pages exactly as missing ones`, async () => {
        const token = who === "anonymous" ? undefined : tokens.get(who);
        for (const page of pages) {
          const res = await get(page, token);
          if (privateNames.some((n) => page.includes(n))) {
            // The page names what was asked for, as it would for a missing thing, and nothing more.
            const missing = await get(swap(page), token);
            assert.equal(res.status, 404, `${who} GET ${page}`);
            assert.equal(res.status, missing.status, `${who} GET ${page} vs missing`);
            assert.equal(swap(res.body), missing.body, `${who} GET ${page}: hidden must read as missing`);
          } else {
            for (const n of privateNames) {
              assert.doesNotMatch(res.body, new RegExp(n), `${who} GET ${page} shows ${n}`);
            }
            assert.equal(res.status, 200, `${who} GET ${page}: ${res.body.slice(0, 300)}`);
          }
        }
      });
    }

    it("shows a reader of the organization its private things, and its members", async () => {
      const rita = tokens.get("rita");
      const home = await get("/", rita);
      assert.match(home.body, /acme\/privmod/);
      const owner = await get("/acme", rita);
      for (const n of privateNames) assert.match(owner.body, new RegExp(`acme/${n}`));
      assert.match(owner.body, /<td>rita<\/td><td>reader<\/td>/);
      const mod = await get("/acme/privmod", rita);
      assert.equal(mod.status, 200);
      // The private module's install lines say where the token goes, never the token itself.
      assert.match(mod.body, /Authorization: Bearer \$PROTODEPOT_TOKEN/);
      assert.doesNotMatch(mod.body, new RegExp(rita ?? "no-token"));
      // A public module's page offers the private template only to those who may use it.
      assert.match((await get("/acme/pubmod", rita)).body, /data-template="acme\/privtpl"/);
      assert.doesNotMatch((await get("/acme/pubmod")).body, /data-template="acme\/privtpl"/);
      for (const page of ["/acme/privmod/docs/main", "/acme/templates/privtpl", "/acme/plugins/privplug"]) {
        assert.equal((await get(page, rita)).status, 200, page);
      }
    });

    it("shows dependencies and dependents, a template's pinned plugins, a plugin's versions", async () => {
      const money = await get("/demo/money");
      assert.match(
        money.body,
        /id="dependents">Dependents<\/h2><ul><li><a href="\/demo\/payments">demo\/payments<\/a>/,
      );
      const payments = await get("/demo/payments");
      assert.match(
        payments.body,
        /id="deps">Dependencies<\/h2><ul><li><a href="\/demo\/money\?ref=[0-9a-f]{32}">demo\/money<\/a>/,
      );
      const docs = await get("/demo/payments/docs/main");
      assert.match(
        docs.body,
        /<a href="\/demo\/money\/docs\/[0-9a-f]{32}#demo.money.v1.Money">demo.money.v1.Money<\/a>/,
      );
      const tpl = await get("/acme/templates/pubtpl");
      assert.match(tpl.body, /<td>v1<\/td><td><code>acme\/pubplug:v1\.0\.0<\/code><\/td>/);
      assert.match(tpl.body, /<code>target=ts<\/code>/);
      const plugin = await get("/bufbuild/plugins/es");
      assert.match(plugin.body, /<code>npm @bufbuild\/protobuf@\^2\.\d+\.\d+<\/code>/);
    });

    it("answers hostile URLs with a 4xx page that shows them escaped", async () => {
      const pages = {
        "/-/constructor": 404,
        "/-/__proto__": 404,
        "/Acme": 404,
        "/acme/pubmod/tree/main/%3Cscript%3Ealert(1)%3C%2Fscript%3E": 404,
        "/acme/pubmod?ref=%3Cb%3Ex%3C%2Fb%3E": 404,
        "/acme/pubmod/docs/%3Cb%3Ex%3C%2Fb%3E": 404,
        "/?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E": 200,
      };
      for (const [page, status] of Object.entries(pages)) {
        const res = await get(page);
        assert.equal(res.status, status, `GET ${page}: ${res.body.slice(0, 200)}`);
        assert.doesNotMatch(res.body, /<script>alert|<b>x/, page);
      }
      assert.match((await get("/?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E")).body, /&lt;script&gt;alert\(1\)/);
    });

    it("answers a wrong token with 401 on every page", async () => {
      for (const page of ["/", "/acme", "/acme/pubmod"]) {
        assert.equal((await get(page, "pd_this-token-was-never-issued-000000")).status, 401, page);
      }
    });

    it("refuses a cross-site sign-in post", async () => {
      const res = await fetch(`${server.url}/login`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: "http://evil.example" },
        body: `token=${tokens.get("rita")}`,
        redirect: "manual",
      });
      assert.equal(res.status, 403);
      assert.equal(res.headers.get("set-cookie"), null);
    });
  });

  describe("in Chromium", { skip: browserMissing() }, () => {
    let browser: Browser;
    before(async () => {
      browser = await launchChromium();
    });
    after(async () => {
      await browser?.close();
    });

    it("opens the demo module, a file, a message's docs, and copies the install line of the chosen commit", async () => {
      const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
      await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
      const page = await context.newPage();
      await withScreenshot(page, "web-demo-module", async () => {
        await page.goto(`${server.url}/demo/payments`);
        assert.match(await page.locator("h1").innerText(), /demo\/payments/);
        if (process.env.PROTODEPOT_SCREENSHOT) {
          await page.screenshot({
            path: process.env.PROTODEPOT_SCREENSHOT,
            clip: { x: 0, y: 0, width: 1100, height: 760 },
          });
        }
        await page.getByRole("link", { name: "demo/payments/v1/payments.proto" }).click();
        await page.waitForURL(/\/tree\/main\/demo\/payments\/v1\/payments\.proto$/);
        assert.match(await page.locator("pre.source").innerText(), /message Payment \{/);
        assert.equal(
          await page.locator("pre.source .k", { hasText: "message" }).first().innerText(),
          "message",
        );

        await page.getByRole("link", { name: "API docs" }).click();
        await page.locator("nav.toc").getByRole("link", { name: "Payment", exact: true }).click();
        await page.waitForURL(/#demo\.payments\.v1\.Payment$/);
        const payment = page.locator('section[id="demo.payments.v1.Payment"]');
        assert.match(await payment.innerText(), /A payment from one account to another/);
        // Field types link to their declarations.
        const links = await payment
          .locator("td a")
          .evaluateAll((as) => as.map((a) => a.getAttribute("href")));
        assert.ok(links.includes("#demo.payments.v1.Status"), `links: ${links.join(", ")}`);

        // The default label is the second commit; the first, chosen in the commit list, is seq 1.
        await page.goto(`${server.url}/demo/payments`);
        const esUse = page.locator('details.use[data-template="protodepot/es"]');
        const copyInstall = async () => {
          if ((await esUse.getAttribute("open")) === null) await esUse.locator("summary").click();
          await esUse.getByRole("button", { name: "Copy protodepot/es npm install" }).click();
          // A string, so that this file needs no DOM types: it runs in the page.
          return page.evaluate("navigator.clipboard.readText()");
        };
        assert.equal(await copyInstall(), "npm install @protodepot/protodepot_es_demo_payments@1.1.2");
        await page.locator(`a[href="/demo/payments?ref=${paymentsFirst}"]`).click();
        await page.waitForURL(new RegExp(`ref=${paymentsFirst}`));
        assert.equal(await copyInstall(), "npm install @protodepot/protodepot_es_demo_payments@1.1.1");
      });
      await context.close();
    });

    it("signs in, sees a private module, signs out and no longer sees it", async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      await withScreenshot(page, "web-sign-in", async () => {
        await page.goto(`${server.url}/acme/privmod`);
        assert.match(await page.locator("main").innerText(), /does not exist/);
        await page.getByRole("link", { name: "Sign in" }).click();
        await page.getByLabel("Token").fill(tokens.get("rita") ?? "");
        await page.getByRole("button", { name: "Sign in" }).click();
        await page.waitForURL(`${server.url}/`);
        assert.match(await page.locator("header").innerText(), /Signed in as rita/);
        const [cookie] = await context.cookies();
        assert.equal(cookie?.name, "pd_session");
        assert.equal(cookie?.httpOnly, true);
        assert.equal(cookie?.sameSite, "Strict");
        assert.notEqual(cookie?.value, tokens.get("rita"), "the session is a token of its own");

        await page.getByRole("link", { name: "acme/privmod" }).click();
        assert.match(await page.locator("h1").innerText(), /acme\/privmod/);
        assert.match(await page.locator("#readme ~ *").first().innerText(), /acme\/privmod/);

        await page.getByRole("button", { name: "Sign out" }).click();
        await page.waitForURL(`${server.url}/`);
        assert.doesNotMatch(await page.locator("main").innerText(), /privmod/);
        await page.goto(`${server.url}/acme/privmod`);
        assert.match(await page.locator("main").innerText(), /does not exist/);
        // Signing out deleted the session's token: the old cookie value no longer authenticates anywhere.
        assert.equal((await get("/acme/privmod/archive/main.tar.gz", cookie?.value)).status, 401);
      });
      await context.close();
    });
  });
});

describe("web UI of a fully private instance", () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;
  before(async () => {
    data = await makeDataDir();
    server = await startTestServer({ dataDir: data.dir, env: { PROTODEPOT_AUTH_ANONYMOUS_READ: "false" } });
  });
  after(async () => {
    await server?.stop();
    await data?.remove();
  });

  it("asks anonymous callers to sign in, and a session cookie opens every page", async () => {
    const anonymous = await fetch(`${server.url}/`);
    assert.equal(anonymous.status, 401);
    assert.match(await anonymous.text(), /<a href="\/login">Sign in<\/a> with a token/);

    const login = await fetch(`${server.url}/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: adminToken }).toString(),
      redirect: "manual",
    });
    assert.equal(login.status, 303);
    const setCookie = login.headers.get("set-cookie") ?? "";
    assert.match(setCookie, /^pd_session=pd_[^;]+;.*HttpOnly/i);
    assert.match(setCookie, /SameSite=Strict/i);
    assert.doesNotMatch(
      setCookie,
      /Secure/i,
      "plain http: no Secure flag, or the browser would drop the cookie",
    );
    const cookie = setCookie.split(";")[0] ?? "";
    const home = await fetch(`${server.url}/`, { headers: { cookie } });
    assert.equal(home.status, 200);
    assert.match(await home.text(), /Signed in as <strong>admin<\/strong>/);

    const bad = await fetch(`${server.url}/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "token=pd_not-a-token",
      redirect: "manual",
    });
    assert.equal(bad.status, 401);
    assert.equal(bad.headers.get("set-cookie"), null);
  });

  it("keeps at most 10 live sessions per user, lists no revoked token, and lets no cache keep a signed-in page", async () => {
    const signIn = async () => {
      const login = await fetch(`${server.url}/login`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token: adminToken }).toString(),
        redirect: "manual",
      });
      assert.equal(login.status, 303);
      return (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    };
    const cookies: string[] = [];
    for (let i = 0; i < 12; i++) cookies.push(await signIn());
    const listed = async () => {
      const res = await callApi(server.url, "UserService/ListTokens", {}, adminToken);
      assert.equal(res.status, 200);
      return ((await res.json()) as { tokens?: { id: string; note: string }[] }).tokens ?? [];
    };
    assert.equal((await listed()).filter((t) => t.note === "web session").length, 10);
    // The two oldest sessions were revoked to make room: their cookies read as signed out.
    const statusWith = async (cookie: string) =>
      (await fetch(`${server.url}/`, { headers: { cookie } })).status;
    assert.deepEqual(
      await Promise.all([cookies[0], cookies[1], cookies[2]].map((c) => statusWith(c ?? ""))),
      [401, 401, 200],
    );

    const page = await fetch(`${server.url}/`, { headers: { cookie: cookies[11] ?? "" } });
    assert.equal(page.status, 200);
    assert.equal(page.headers.get("cache-control"), "private, no-store");
    assert.match(page.headers.get("vary") ?? "", /Cookie/);
    const byHeader = await fetch(`${server.url}/`, { headers: { authorization: `Bearer ${adminToken}` } });
    assert.equal(byHeader.headers.get("cache-control"), "private, no-store");
    const anonymous = await fetch(`${server.url}/login`);
    assert.equal(anonymous.headers.get("cache-control"), "no-cache");
    assert.match(anonymous.headers.get("vary") ?? "", /Cookie/);

    const made = await callApi(server.url, "UserService/CreateToken", { note: "to revoke" }, adminToken);
    const { tokenId } = (await made.json()) as { tokenId: string };
    await callApi(server.url, "UserService/RevokeToken", { tokenId }, adminToken);
    assert.deepEqual(
      (await listed()).filter((t) => t.id === tokenId),
      [],
      "token list shows the tokens that still work",
    );

    // Notes are a line, lifetimes at most ten years, instants RFC 3339.
    for (const [body, message] of [
      [{ note: "x".repeat(257) }, /token note is 257 characters long: keep it to 256/],
      [{ expireTime: "+275760-09-13T00:00:00Z" }, /invalid expire_time/],
      [{ expireTime: "2999-01-01T00:00:00Z" }, /more than 10 years away/],
    ] as const) {
      const res = await callApi(server.url, "UserService/CreateToken", body, adminToken);
      assert.equal(res.status, 400);
      assert.match(await res.text(), message);
    }
  });
});
