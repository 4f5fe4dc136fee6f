// Token scopes, bots and the audit log, driven through the real CLI against a real server: a read-only token
// cannot push, a module-scoped token pushes only to its module, an expired one is refused; an organization's
// owners manage its bots' tokens; every change the CLI makes leaves exactly one audit event carrying the actor
// and the request id of the server's log line, and an organization owner reads only their organization's.
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { cliOk, runCli } from "./support/cli.js";
import { adminToken, callApi, makeDataDir, startTestServer, type TestServer } from "./support/server.js";

interface Event {
  id: string;
  action: string;
  actor: string;
  tokenId: string;
  bot: boolean;
  owner: string;
  target: string;
  before: string;
  after: string;
  clientAddress: string;
  requestId: string;
  count: number;
}

describe("token scopes, bots and the audit log", () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;
  let olivia = "";
  let walt = "";
  const as = (token: string) => ["--remote", server.url, "--token", token];

  /** A module directory named OWNER/NAME with one file. */
  const moduleDir = async (name: string, message = "M") => {
    const dir = join(data.dir, "src", name.replace("/", "-"), message);
    const pkg = name.split("/")[1]?.replaceAll("-", "") ?? "x";
    await mkdir(join(dir, pkg, "v1"), { recursive: true });
    await writeFile(join(dir, "buf.yaml"), `version: v1\nname: buf.build/${name}\n`);
    await writeFile(
      join(dir, pkg, "v1", "m.proto"),
      `syntax = "proto3";\npackage ${pkg}.v1;\nmessage ${message} { string id = 1; }\n`,
    );
    return dir;
  };
  /** The audit events an admin reads, newest first. */
  const events = async (args: string[] = [], token = adminToken): Promise<Event[]> => {
    const res = await cliOk(["audit", "list", "--json", "--limit", "1000", ...args, ...as(token)]);
    return res.stdout
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Event);
  };
  /** Runs a CLI command that changes state, and answers the events it appended (oldest first). */
  const change = async (args: string[]): Promise<Event[]> => {
    const newest = (await events())[0]?.id ?? "";
    await cliOk(args);
    return (await events()).filter((e) => e.id > newest && e.action !== "auth.failed").reverse();
  };

  before(async () => {
    data = await makeDataDir();
    // Debug-level logs carry each request's reqId: the audit events must name the same ids.
    server = await startTestServer({
      dataDir: data.dir,
      orgs: ["acme"],
      env: { PROTODEPOT_LOG_LEVEL: "debug", PROTODEPOT_AUTH_MAX_TOKEN_LIFETIME_DAYS: "400" },
    });
    for (const name of ["olivia", "walt"]) await cliOk(["user", "create", name, ...as(adminToken)]);
    olivia = (await cliOk(["token", "create", "--user", "olivia", ...as(adminToken)])).stdout.trim();
    walt = (await cliOk(["token", "create", "--user", "walt", ...as(adminToken)])).stdout.trim();
    await cliOk(["org", "member", "add", "acme", "olivia", "--role", "owner", ...as(adminToken)]);
    await cliOk(["org", "member", "add", "acme", "walt", "--role", "writer", ...as(adminToken)]);
  });
  after(async () => {
    await server?.stop();
    await data?.remove();
  });

  it("records failed sign-ins, folded per address and window so that they cannot fill the disk", async () => {
    for (let i = 0; i < 20; i++) {
      const res = await callApi(server.url, "UserService/WhoAmI", {}, `pd_wrong-${i}`);
      assert.equal(res.status, 401);
    }
    // The first failure of the window is an event at once; the other 19 are one count, appended when the window
    // ends or the server stops (checked by the last test).
    const failed = await events(["--action", "auth.failed"]);
    assert.deepEqual(
      failed.map((e) => `${e.actor}|${e.clientAddress}|${e.count}`),
      ["|127.0.0.1|1"],
    );
    assert.match(failed[0]?.after ?? "", /invalid token/);
    assert.ok(failed[0]?.requestId);
  });

  it("refuses a read-only token every push (403 naming the scope), yet lets it read", async () => {
    const made = await cliOk([
      "token",
      "create",
      "--note",
      "mirror",
      "--scope",
      "read",
      "--expires",
      "30d",
      ...as(walt),
    ]);
    const readOnly = made.stdout.trim();
    const listed = await cliOk(["token", "list", ...as(walt)]);
    assert.match(listed.stdout, /mirror\s+read\s/);
    const push = await runCli(["push", await moduleDir("acme/payments"), ...as(readOnly)]);
    assert.notEqual(push.code, 0);
    assert.match(push.stderr, /scope is read/);
    // The same over the API, on our push and on buf's.
    const api = await callApi(
      server.url,
      "ModuleService/Push",
      { module: "acme/payments", files: [] },
      readOnly,
    );
    assert.equal(api.status, 403);
    assert.match(await api.text(), /scope is read/);
    const create = await callApi(
      server.url,
      "ModuleService/CreateModule",
      { module: "acme/payments" },
      readOnly,
    );
    assert.equal(create.status, 403);
    assert.match(await create.text(), /scope is read/);
    // It reads, and it manages no tokens.
    const whoami = await callApi(server.url, "UserService/WhoAmI", {}, readOnly);
    assert.equal(whoami.status, 200);
    const escalate = await callApi(server.url, "UserService/CreateToken", {}, readOnly);
    assert.equal(escalate.status, 403);
  });

  it("lets a module-scoped token push to its module only", async () => {
    const ci = (
      await cliOk(["token", "create", "--scope", "write:acme/payments", "--expires", "7d", ...as(walt)])
    ).stdout.trim();
    await cliOk(["push", await moduleDir("acme/payments"), ...as(ci)]);
    const elsewhere = await runCli(["push", await moduleDir("acme/ledger"), ...as(ci)]);
    assert.notEqual(elsewhere.code, 0);
    assert.match(elsewhere.stderr, /scope is write:acme\/payments.*write:acme or write:acme\/ledger/);
    const plugin = await callApi(server.url, "PluginService/CreatePlugin", { plugin: "acme/gen" }, ci);
    assert.equal(plugin.status, 403);
  });

  it("refuses an expired token with 401, and a lifetime past the server's maximum", async () => {
    // Long enough for a loaded runner to create it before it expires; the test then waits it out.
    const soon = new Date(Date.now() + 3000).toISOString();
    const res = await callApi(server.url, "UserService/CreateToken", { expireTime: soon }, walt);
    assert.equal(res.status, 200);
    const expiring = ((await res.json()) as { token: string }).token;
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(soon) - Date.now() + 100)));
    // A push is refused before its body is read, so the CLI may see the connection close (EPIPE) before the answer;
    // the answer itself is checked on a command without a body to send.
    const push = await runCli(["push", await moduleDir("acme/payments"), ...as(expiring)]);
    assert.notEqual(push.code, 0);
    const refused = await runCli(["token", "list", ...as(expiring)]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /expired/);
    const status = await callApi(server.url, "UserService/WhoAmI", {}, expiring);
    assert.equal(status.status, 401);
    const tooLong = await runCli(["token", "create", "--expires", "500d", ...as(walt)]);
    assert.notEqual(tooLong.code, 0);
    assert.match(tooLong.stderr, /auth.maxTokenLifetimeDays/);
  });

  it("lets the organization's owners, and nobody else, manage its bots and their tokens", async () => {
    await cliOk(["bot", "create", "acme", "acme-ci", ...as(olivia)]);
    const notOwner = await runCli(["bot", "create", "acme", "acme-other", ...as(walt)]);
    assert.notEqual(notOwner.code, 0);
    assert.match(notOwner.stderr, /needs an owner of acme/);
    const bots = await cliOk(["bot", "list", "acme", ...as(olivia)]);
    assert.match(bots.stdout, /acme-ci\s+writer/);

    const botToken = (
      await cliOk(["bot", "token", "create", "acme-ci", "--scope", "write:acme/payments", ...as(olivia)])
    ).stdout.trim();
    const byWriter = await runCli(["bot", "token", "create", "acme-ci", ...as(walt)]);
    assert.notEqual(byWriter.code, 0);
    // The bot pushes where its token allows, and manages no tokens of its own.
    await cliOk(["push", await moduleDir("acme/payments", "FromBot"), ...as(botToken)]);
    const own = await runCli(["token", "create", ...as(botToken)]);
    assert.notEqual(own.code, 0);
    const listed = await cliOk(["bot", "token", "list", "acme-ci", ...as(olivia)]);
    assert.match(listed.stdout, /write:acme\/payments/);
    // Bots do not sign in to the web UI.
    const login = await fetch(`${server.url}/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `token=${encodeURIComponent(botToken)}`,
    });
    assert.equal(login.status, 403);
    assert.equal(login.headers.get("set-cookie"), null);

    await cliOk(["bot", "delete", "acme", "acme-ci", ...as(olivia)]);
    const gone = await callApi(server.url, "UserService/WhoAmI", {}, botToken);
    assert.equal(gone.status, 401);
  });

  it("records each change the CLI makes as exactly one event with its actor and the request id of its log line", async () => {
    const cases: [string[], string, string][] = [
      [["user", "create", "carol", ...as(adminToken)], "user.create", "admin"],
      [["org", "create", "widgets", ...as(olivia)], "organization.create", "olivia"],
      [
        ["org", "member", "add", "widgets", "walt", "--role", "writer", ...as(olivia)],
        "member.set",
        "olivia",
      ],
      [["module", "create", "acme/audited", ...as(walt)], "module.create", "walt"],
      [["push", await moduleDir("acme/audited"), ...as(walt)], "commit.push", "walt"],
      [["label", "create", "acme/audited", "beta", "main", ...as(walt)], "label.create", "walt"],
      [
        ["module", "update", "acme/audited", "--visibility", "private", ...as(olivia)],
        "module.visibility",
        "olivia",
      ],
      [["token", "create", "--note", "x", ...as(walt)], "token.create", "walt"],
      [["bot", "create", "acme", "acme-bot", ...as(olivia)], "bot.create", "olivia"],
      [["plugin", "create", "acme/audit-plug", ...as(walt)], "plugin.create", "walt"],
      [
        [
          "plugin",
          "version",
          "create",
          "acme/audit-plug",
          "v1.0.0",
          "--command",
          process.execPath,
          ...as(adminToken),
        ],
        "plugin.version.create",
        "admin",
      ],
      [
        ["plugin", "update", "acme/audit-plug", "--visibility", "private", ...as(olivia)],
        "plugin.visibility",
        "olivia",
      ],
      [
        [
          "template",
          "create",
          "acme/audit-tpl",
          "--visibility",
          "private",
          "--config",
          JSON.stringify({ plugins: [{ owner: "acme", name: "audit-plug" }] }),
          ...as(walt),
        ],
        "template.create",
        "walt",
      ],
      [
        [
          "template",
          "version",
          "create",
          "acme/audit-tpl",
          "--config",
          JSON.stringify({ plugin_versions: [{ owner: "acme", name: "audit-plug", version: "v1.0.0" }] }),
          ...as(walt),
        ],
        "template.version.create",
        "walt",
      ],
      [["module", "update", "acme/audited", "--breaking", "reject", ...as(olivia)], "policy.set", "olivia"],
      [["org", "member", "remove", "widgets", "walt", ...as(olivia)], "member.remove", "olivia"],
    ];
    const log = () => server.output();
    for (const [args, action, actor] of cases) {
      const appended = await change(args);
      assert.deepEqual(
        appended.map((e) => `${e.action} by ${e.actor}`),
        [`${action} by ${actor}`],
        `protodepot ${args.slice(0, 3).join(" ")}`,
      );
      const event = appended[0] as Event;
      assert.ok(event.tokenId, "the token that made the change is recorded");
      assert.equal(event.clientAddress, "127.0.0.1");
      assert.ok(event.requestId, "a request id");
      assert.ok(
        log().includes(`"reqId":"${event.requestId}"`),
        `the server's log has a line for request ${event.requestId}`,
      );
    }
    // Before and after where it matters.
    const visibility = (await events(["--action", "module.visibility"]))[0];
    assert.equal(visibility?.before, '{"visibility":"public"}');
    assert.equal(visibility?.after, '{"visibility":"private"}');
    // Revoking is one event too, with the token's id as its target.
    const tokens = await callApi(server.url, "UserService/ListTokens", {}, walt);
    const { tokens: held } = (await tokens.json()) as { tokens: { id: string; note: string }[] };
    const x = held.find((t) => t.note === "x");
    assert.ok(x);
    const revoked = await change(["token", "revoke", x.id, ...as(walt)]);
    assert.deepEqual(
      revoked.map((e) => `${e.action} ${e.target}`),
      [`token.revoke token ${x.id}`],
    );
  });

  it("records web sign-ins and sign-outs, and a scoped token's session keeps its scope", async () => {
    const since = (await events())[0]?.id ?? "";
    const readOnly = (await cliOk(["token", "create", "--scope", "read", ...as(walt)])).stdout.trim();
    const login = await fetch(`${server.url}/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: readOnly }).toString(),
      redirect: "manual",
    });
    assert.equal(login.status, 303);
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const listed = await callApi(server.url, "UserService/ListTokens", {}, walt);
    const { tokens } = (await listed.json()) as { tokens: { note: string; scopes: string[] }[] };
    assert.deepEqual(tokens.find((t) => t.note === "web session")?.scopes, ["read"]);
    // Sign out as the page's button does: with the session's form token (web/csrf.ts).
    const home = await (await fetch(`${server.url}/`, { headers: { cookie } })).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(home)?.[1];
    assert.ok(csrf, "the signed-in page has a sign-out form with its form token");
    const logout = await fetch(`${server.url}/logout`, {
      method: "POST",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf }).toString(),
      redirect: "manual",
    });
    assert.equal(logout.status, 303);
    const appended = (await events()).filter((e) => e.id > since && e.action.startsWith("session."));
    assert.deepEqual(appended.map((e) => `${e.action} by ${e.actor} from ${e.clientAddress}`).reverse(), [
      "session.open by walt from 127.0.0.1",
      "session.close by walt from 127.0.0.1",
    ]);
  });

  it("shows an organization's owner only that organization's events", async () => {
    const mine = await events(["--owner", "acme"], olivia);
    assert.ok(mine.length > 0);
    assert.ok(mine.every((e) => e.owner === "acme"));
    assert.ok(mine.some((e) => e.action === "bot.create"));
    const all = await runCli(["audit", "list", ...as(olivia)]);
    assert.notEqual(all.code, 0);
    assert.match(all.stderr, /only admins read the whole audit log/);
    const notOwner = await runCli(["audit", "list", "--owner", "acme", ...as(walt)]);
    assert.notEqual(notOwner.code, 0);
    const other = await runCli(["audit", "list", "--owner", "widgets", ...as(walt)]);
    assert.notEqual(other.code, 0);
  });

  it("appends the folded failures when the server stops, so every one is counted", async () => {
    await server.stop();
    server = await startTestServer({ dataDir: data.dir });
    const failed = await events(["--action", "auth.failed"]);
    const total = failed.reduce((n, e) => n + e.count, 0);
    // 20 wrong tokens, the expired one (three times), the deleted bot's: at least 24, in a handful of events.
    assert.ok(total >= 24, `${total} failures counted`);
    assert.ok(failed.length <= 4, `${failed.length} events`);
  });
});
