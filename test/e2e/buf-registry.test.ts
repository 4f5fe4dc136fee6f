// The real buf CLI's `buf registry …` management commands against protodepot over plain http on loopback:
// commit and label listings (paging, archive filters), label archiving, module update/deprecate/settings,
// organizations, and a refused `buf push --create` that leaves nothing behind. Text and --format json output.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { cliOk, runCli } from "./support/cli.js";
import {
  adminToken,
  callApi,
  makeDataDir,
  repoRoot,
  startTestServer,
  type TestServer,
} from "./support/server.js";

const bufBin = join(repoRoot, "node_modules", ".bin", "buf");

interface Run {
  stdout: string;
  stderr: string;
  code: number | null;
}

describe("buf registry commands against protodepot", () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;
  let host: string;
  let work: string;
  let env: Record<string, string>;
  /** Tokens by user name; admin is the server's admin. */
  const tokens = new Map<string, string>([["admin", adminToken]]);
  /** admin/base's commits, oldest first. */
  const baseCommits: string[] = [];

  /** Runs buf in `cwd` as `user` (HOST in arguments is the server's host:port). */
  function buf(cwd: string, args: string[], user = "admin"): Promise<Run> {
    const token = tokens.get(user);
    assert.ok(token, `no token for ${user}`);
    const child = spawn(
      bufBin,
      args.map((a) => a.replaceAll("HOST", host)),
      { cwd, env: { ...env, BUF_TOKEN: `${token}@${host}` }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    return new Promise((resolve, reject) => {
      child.once("error", reject);
      child.once("close", (code) => resolve({ stdout, stderr, code }));
    });
  }

  async function bufOk(cwd: string, args: string[], user = "admin"): Promise<Run> {
    const r = await buf(cwd, args, user);
    assert.equal(r.code, 0, `buf ${args.join(" ")} failed:\n${r.stdout}${r.stderr}\n${server.output()}`);
    return r;
  }

  async function bufFails(cwd: string, args: string[], user = "admin"): Promise<string> {
    const r = await buf(cwd, args, user);
    assert.notEqual(r.code, 0, `buf ${args.join(" ")} succeeded:\n${r.stdout}`);
    return r.stderr;
  }

  const json = (r: Run): Record<string, unknown> => JSON.parse(r.stdout) as Record<string, unknown>;
  const lines = (r: Run): string[] => r.stdout.split("\n").filter((l) => l !== "");

  async function api(method: string, body: object): Promise<Record<string, unknown>> {
    const res = await callApi(server.url, method, body, adminToken);
    const text = await res.text();
    assert.equal(res.status, 200, `${method}: ${text}`);
    return JSON.parse(text) as Record<string, unknown>;
  }

  /** A module as our own API lists it (JSON: fields at their zero value are left out). */
  async function ourModule(fullName: string): Promise<Record<string, unknown>> {
    const [owner, name] = fullName.split("/");
    const { modules } = (await api("ModuleService/ListModules", { owner })) as {
      modules: Record<string, unknown>[];
    };
    const found = modules.find((m) => m.name === name);
    assert.ok(found, `${fullName} not listed`);
    return found;
  }

  async function writeModule(dir: string, files: Record<string, string>): Promise<string> {
    for (const [path, content] of Object.entries(files)) {
      await mkdir(join(dir, path, ".."), { recursive: true });
      await writeFile(join(dir, path), content);
    }
    return dir;
  }

  async function addUser(name: string): Promise<void> {
    await api("UserService/CreateUser", { name });
    tokens.set(name, (await api("UserService/CreateToken", { user: name })).token as string);
  }

  before(async () => {
    data = await makeDataDir();
    work = await mkdtemp(join(tmpdir(), "protodepot-bufreg-"));
    const config = join(work, "config");
    await mkdir(config, { recursive: true });
    server = await startTestServer({ dataDir: data.dir });
    // buf speaks https to every registry unless its config turns TLS off.
    await writeFile(join(config, "config.yaml"), "version: v1\ntls:\n  use: false\n");
    host = new URL(server.url).host;
    env = {
      PATH: process.env.PATH ?? "",
      HOME: join(work, "home"),
      BUF_CACHE_DIR: join(work, "cache"),
      BUF_CONFIG_DIR: config,
      NETRC: join(work, "home", ".netrc"),
    };
    await mkdir(env.HOME as string, { recursive: true });

    // admin/base with three commits: labels v1, v2, and main at the newest.
    const base = join(work, "base");
    for (const [i, label] of ["v1", "v2", "main"].entries()) {
      await writeModule(base, {
        "buf.yaml": `version: v2\nname: ${host}/admin/base\n`,
        "base/v1/money.proto": `syntax = "proto3";\npackage base.v1;\nmessage Money { int64 units = ${i + 1}; }\n`,
      });
      const pushed = await bufOk(base, ["push", "--create", "--label", label]);
      const id = /:([0-9a-f]{32})\s*$/.exec(pushed.stdout)?.[1];
      assert.ok(id, pushed.stdout);
      baseCommits.push(id);
    }
  });

  after(async () => {
    await server?.stop();
    await data?.remove();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("lists a module's commits newest first, a page at a time, and oldest first with --reverse", async () => {
    const [c1, c2, c3] = baseCommits;
    const text = await bufOk(work, ["registry", "module", "commit", "list", "HOST/admin/base"]);
    assert.deepEqual(lines(text), [
      `${host}/admin/base:${c3}`,
      `${host}/admin/base:${c2}`,
      `${host}/admin/base:${c1}`,
    ]);
    // The pre-module form of the command reaches the same calls.
    const old = await bufOk(work, ["registry", "commit", "list", "HOST/admin/base"]);
    assert.equal(old.stdout, text.stdout);

    const asJson = json(
      await bufOk(work, ["registry", "module", "commit", "list", "HOST/admin/base", "--format", "json"]),
    );
    const commits = asJson.commits as { commit: string; create_time: string }[];
    assert.deepEqual(
      commits.map((c) => c.commit),
      [c3, c2, c1],
    );
    assert.ok(commits.every((c) => !Number.isNaN(Date.parse(c.create_time))));

    // Paging: buf prints the command for the next page with our token; following it lists the rest.
    const first = await bufOk(work, [
      "registry",
      "module",
      "commit",
      "list",
      "HOST/admin/base",
      "--page-size",
      "2",
    ]);
    assert.equal(lines(first)[0], `${host}/admin/base:${c3}`);
    assert.equal(lines(first)[1], `${host}/admin/base:${c2}`);
    const token = /--page-token (\S+?)"/.exec(first.stdout + first.stderr)?.[1];
    assert.ok(token, `no next page in:\n${first.stdout}${first.stderr}`);
    const second = await bufOk(work, [
      "registry",
      "module",
      "commit",
      "list",
      "HOST/admin/base",
      "--page-size",
      "2",
      "--page-token",
      token,
    ]);
    assert.deepEqual(lines(second), [`${host}/admin/base:${c1}`]);

    const reversed = await bufOk(work, [
      "registry",
      "module",
      "commit",
      "list",
      "HOST/admin/base",
      "--reverse",
    ]);
    assert.deepEqual(lines(reversed), [
      `${host}/admin/base:${c1}`,
      `${host}/admin/base:${c2}`,
      `${host}/admin/base:${c3}`,
    ]);

    // A commit reference names that one commit.
    const one = await bufOk(work, ["registry", "module", "commit", "list", `HOST/admin/base:${c2}`]);
    assert.deepEqual(lines(one), [`${host}/admin/base:${c2}`]);
    // A label lists its commit and the ones before it, newest first.
    const labelled = await bufOk(work, ["registry", "module", "commit", "list", "HOST/admin/base:v2"]);
    assert.deepEqual(lines(labelled), [`${host}/admin/base:${c2}`, `${host}/admin/base:${c1}`]);
    const missing = await bufFails(work, ["registry", "module", "commit", "list", "HOST/admin/nope"]);
    assert.match(missing, /nope/);
  });

  it("lists labels, archives one out of listings (it still resolves) and unarchives it", async () => {
    const [c1, c2, c3] = baseCommits;
    const listed = await bufOk(work, ["registry", "module", "label", "list", "HOST/admin/base"]);
    assert.deepEqual(lines(listed), [
      `${host}/admin/base:main`,
      `${host}/admin/base:v2`,
      `${host}/admin/base:v1`,
    ]);
    const asJson = json(
      await bufOk(work, ["registry", "label", "list", "HOST/admin/base", "--format", "json"]),
    );
    assert.deepEqual(
      (asJson.labels as { name: string; commit: string }[]).map((l) => [l.name, l.commit]),
      [
        ["main", c3],
        ["v2", c2],
        ["v1", c1],
      ],
    );

    const archived = await bufOk(work, ["registry", "module", "label", "archive", "HOST/admin/base:v1"]);
    assert.match(archived.stdout, /Archived .*admin\/base:v1/);
    assert.deepEqual(lines(await bufOk(work, ["registry", "module", "label", "list", "HOST/admin/base"])), [
      `${host}/admin/base:main`,
      `${host}/admin/base:v2`,
    ]);
    const onlyArchived = await bufOk(work, [
      "registry",
      "module",
      "label",
      "list",
      "HOST/admin/base",
      "--archive-status",
      "archived",
    ]);
    assert.deepEqual(lines(onlyArchived), [`${host}/admin/base:v1`]);
    // Still resolves, and says since when it is archived.
    const info = json(
      await bufOk(work, ["registry", "module", "label", "info", "HOST/admin/base:v1", "--format", "json"]),
    );
    assert.equal(info.commit, c1);
    assert.ok(typeof info.archive_time === "string" && !Number.isNaN(Date.parse(info.archive_time)));
    const resolved = await bufOk(work, ["registry", "module", "commit", "resolve", "HOST/admin/base:v1"]);
    assert.equal(resolved.stdout.trim(), `${host}/admin/base:${c1}`);
    // Our own API's listing leaves it out too.
    const ours = await api("ModuleService/ListLabels", { module: "admin/base" });
    assert.deepEqual(
      (ours.labels as { name: string }[]).map((l) => l.name),
      ["main", "v2"],
    );

    const stderr = await bufFails(work, ["registry", "module", "label", "archive", "HOST/admin/base:main"]);
    assert.match(stderr, /"main" is the default label of admin\/base and cannot be archived/);

    await bufOk(work, ["registry", "module", "label", "unarchive", "HOST/admin/base:v1"]);
    assert.equal(
      lines(await bufOk(work, ["registry", "module", "label", "list", "HOST/admin/base"])).length,
      3,
    );
  });

  it("deprecates and undeprecates a module (owners only); buf warns when resolving it", async () => {
    await api("OrganizationService/CreateOrganization", { name: "acme" });
    await addUser("walt");
    await api("OrganizationService/AddMember", { organization: "acme", user: "walt", role: "writer" });
    const money = await writeModule(join(work, "money"), {
      "buf.yaml": `version: v2\nname: ${host}/acme/money\n`,
      "money/v1/money.proto": 'syntax = "proto3";\npackage money.v1;\nmessage Money {}\n',
    });
    await bufOk(money, ["push", "--create", "--create-visibility", "public"], "walt");
    const app = await writeModule(join(work, "app"), {
      "buf.yaml": `version: v2\ndeps:\n  - ${host}/acme/money\n`,
      "app/v1/app.proto":
        'syntax = "proto3";\npackage app.v1;\nimport "money/v1/money.proto";\nmessage Order { money.v1.Money total = 1; }\n',
    });

    // A writer may push but not deprecate: an owner decision.
    const refused = await bufFails(work, ["registry", "module", "deprecate", "HOST/acme/money"], "walt");
    assert.match(refused, /permission_denied/);
    const deprecated = await bufOk(work, ["registry", "module", "deprecate", "HOST/acme/money"]);
    assert.match(deprecated.stdout, /Module deprecated\./);
    const info = json(
      await bufOk(work, ["registry", "module", "info", "HOST/acme/money", "--format", "json"]),
    );
    assert.equal(info.state, "MODULE_STATE_DEPRECATED");
    const updated = await bufOk(app, ["dep", "update"]);
    assert.match(updated.stderr, /acme\/money is deprecated/);

    await bufOk(work, ["registry", "module", "undeprecate", "HOST/acme/money"]);
    const active = json(
      await bufOk(work, ["registry", "module", "info", "HOST/acme/money", "--format", "json"]),
    );
    assert.equal(active.state, "MODULE_STATE_ACTIVE");
    await rm(join(work, "cache"), { recursive: true, force: true });
    const again = await bufOk(app, ["dep", "update"]);
    assert.doesNotMatch(again.stderr, /deprecated/);

    // Our CLI deprecates with a message, which our API shows and buf's warning follows.
    const cli = {
      PROTODEPOT_REMOTE: server.url,
      PROTODEPOT_TOKEN: adminToken,
      XDG_CONFIG_HOME: join(work, "xdg"),
    };
    const byWriter = await runCli(["module", "deprecate", "acme/money"], {
      ...cli,
      PROTODEPOT_TOKEN: tokens.get("walt") ?? "",
    });
    assert.notEqual(byWriter.code, 0);
    assert.match(byWriter.stderr, /may not|permission/i);
    const ours = await cliOk(["module", "deprecate", "acme/money", "--message", "use acme/money2"], cli);
    assert.match(ours.stdout, /module acme\/money is deprecated: use acme\/money2/);
    const listed = await ourModule("acme/money");
    assert.equal(listed.deprecated, true);
    assert.equal(listed.deprecationMessage, "use acme/money2");
    await rm(join(work, "cache"), { recursive: true, force: true });
    assert.match((await bufOk(app, ["dep", "update"])).stderr, /acme\/money is deprecated/);
    // buf's own deprecate (no message) keeps the message set before; undeprecating clears both.
    await bufOk(work, ["registry", "module", "deprecate", "HOST/acme/money"]);
    assert.equal((await ourModule("acme/money")).deprecationMessage, "use acme/money2");
    await cliOk(["module", "undeprecate", "acme/money"], cli);
    const cleared = await ourModule("acme/money");
    assert.equal(cleared.deprecated, undefined);
    assert.equal(cleared.deprecationMessage, undefined);
  });

  it("updates description and default label (writers) and visibility (owners only)", async () => {
    const money = join(work, "money");
    await writeModule(money, {
      "money/v1/money.proto": 'syntax = "proto3";\npackage money.v1;\nmessage Money { int64 units = 1; }\n',
    });
    await bufOk(money, ["push", "--label", "stable"], "walt");
    await bufOk(
      work,
      [
        "registry",
        "module",
        "settings",
        "update",
        "HOST/acme/money",
        "--description",
        "Money",
        "--default-label-name",
        "stable",
      ],
      "walt",
    );
    const info = json(
      await bufOk(work, ["registry", "module", "info", "HOST/acme/money", "--format", "json"]),
    );
    assert.equal(info.default_label_name, "stable");
    // buf shows no description; our API does.
    const ours = await ourModule("acme/money");
    assert.equal(ours.description, "Money");
    assert.equal(ours.defaultLabel, "stable");
    const unknown = await bufFails(work, [
      "registry",
      "module",
      "settings",
      "update",
      "HOST/acme/money",
      "--default-label-name",
      "mian",
    ]);
    assert.match(unknown, /module acme\/money has no label "mian" \(labels: main, stable\)/);

    const refused = await bufFails(
      work,
      ["registry", "module", "update", "HOST/acme/money", "--visibility", "private"],
      "walt",
    );
    assert.match(refused, /permission_denied/);
    await bufOk(work, ["registry", "module", "update", "HOST/acme/money", "--visibility", "private"]);
    // Private: the writer (a member) still sees it, a stranger gets "does not exist".
    await addUser("mallory");
    await bufOk(work, ["registry", "module", "info", "HOST/acme/money"], "walt");
    const hidden = await bufFails(work, ["registry", "module", "info", "HOST/acme/money"], "mallory");
    assert.match(hidden, /does not exist|not found/i);
  });

  it("refuses a public buf push --create onto a private dependency and creates nothing", async () => {
    // acme/money is private now (previous test).
    const open = await writeModule(join(work, "open"), {
      "buf.yaml": `version: v2\nname: ${host}/acme/open\ndeps:\n  - ${host}/acme/money\n`,
      "open/v1/open.proto":
        'syntax = "proto3";\npackage open.v1;\nimport "money/v1/money.proto";\nmessage Open { money.v1.Money m = 1; }\n',
    });
    await bufOk(open, ["dep", "update"], "walt");
    const stderr = await bufFails(open, ["push", "--create", "--create-visibility", "public"], "walt");
    assert.match(stderr, /public module acme\/open cannot depend on private modules \(acme\/money\)/);
    assert.match(stderr, /push with --create-visibility private/);
    const gone = await bufFails(work, ["registry", "module", "info", "HOST/acme/open"]);
    assert.match(gone, /does not exist|not found/i);
    const pushed = await bufOk(open, ["push", "--create", "--create-visibility", "private"], "walt");
    assert.match(pushed.stdout, /acme\/open:[0-9a-f]{32}/);
  });

  it("shows, creates and deletes organizations; only an empty one, and only for its owners", async () => {
    const created = await bufOk(work, ["registry", "organization", "create", "HOST/emptyorg"], "walt");
    assert.match(created.stdout, /Created .*\/emptyorg\./);
    const text = await bufOk(work, ["registry", "organization", "info", "HOST/emptyorg"]);
    assert.match(text.stdout, new RegExp(`${host}/emptyorg`));
    const info = json(
      await bufOk(work, ["registry", "organization", "info", "HOST/emptyorg", "--format", "json"]),
    );
    assert.equal(info.name, "emptyorg");
    assert.equal(info.remote, host);

    const stranger = await bufFails(
      work,
      ["registry", "organization", "delete", "HOST/emptyorg", "--force"],
      "mallory",
    );
    assert.match(stranger, /permission_denied/);
    const full = await bufFails(work, ["registry", "organization", "delete", "HOST/acme", "--force"]);
    assert.match(full, /organization acme still owns modules, plugins, templates or bots/);
    const deleted = await bufOk(
      work,
      ["registry", "organization", "delete", "HOST/emptyorg", "--force"],
      "walt",
    );
    assert.match(deleted.stdout, /Organization deleted\./);
    const missing = await bufFails(work, ["registry", "organization", "info", "HOST/emptyorg"]);
    assert.match(missing, /does not exist|not found/i);
  });

  it("shows a plugin and lists its versions as commits, newest first", async () => {
    const plugin = (await api("PluginService/CreatePlugin", { plugin: "admin/echo", visibility: "public" }))
      .plugin as { id: string };
    for (const version of ["v1.0.0", "v1.1.0"])
      await api("PluginService/CreatePluginVersion", {
        plugin: "admin/echo",
        version,
        command: ["/bin/true"],
      });
    // A version's commit id is derived from plugin and version, the same every time.
    const idOf = (version: string) =>
      createHash("sha256").update(`${plugin.id}/${version}`).digest("hex").slice(0, 32);

    const text = await bufOk(work, ["registry", "plugin", "info", "HOST/admin/echo"]);
    assert.match(text.stdout, new RegExp(`${host}/admin/echo`));
    const info = json(
      await bufOk(work, ["registry", "plugin", "info", "HOST/admin/echo", "--format", "json"]),
    );
    assert.equal(info.id, plugin.id);
    assert.equal(info.name, "echo");
    assert.equal(info.owner, "admin");

    const listed = await bufOk(work, ["registry", "plugin", "commit", "list", "HOST/admin/echo"]);
    assert.deepEqual(lines(listed), [
      `${host}/admin/echo:${idOf("v1.1.0")}`,
      `${host}/admin/echo:${idOf("v1.0.0")}`,
    ]);
    const asJson = json(
      await bufOk(work, [
        "registry",
        "plugin",
        "commit",
        "list",
        "HOST/admin/echo",
        "--format",
        "json",
        "--reverse",
      ]),
    );
    assert.deepEqual(
      (asJson.commits as { commit: string }[]).map((c) => c.commit),
      [idOf("v1.0.0"), idOf("v1.1.0")],
    );
    const one = await bufOk(work, ["registry", "plugin", "commit", "list", "HOST/admin/echo:v1.0.0"]);
    assert.deepEqual(lines(one), [`${host}/admin/echo:${idOf("v1.0.0")}`]);

    // Private plugins answer as missing ones to a stranger.
    await api("PluginService/CreatePlugin", { plugin: "admin/hidden", visibility: "private" });
    const hidden = await bufFails(work, ["registry", "plugin", "info", "HOST/admin/hidden"], "mallory");
    assert.match(hidden, /does not exist/);
    await bufOk(work, ["registry", "plugin", "info", "HOST/admin/hidden"]);
  });

  it("answers buf registry sdk version with the synthetic version of a template version and a commit", async () => {
    const [c1] = baseCommits;
    // admin/echo (previous test) declares no runtime libraries: Go, whose proxy serves every template.
    await api("TemplateService/CreateTemplate", {
      template: "admin/gosdk",
      plugins: [{ owner: "admin", name: "echo" }],
      visibility: "public",
    });
    await api("TemplateService/CreateTemplateVersion", {
      template: "admin/gosdk",
      pluginVersions: [{ owner: "admin", name: "echo", version: "v1.0.0" }],
    });
    const sdk = async (module: string, plugin: string) =>
      (
        await bufOk(work, ["registry", "sdk", "version", "--module", module, "--plugin", plugin])
      ).stdout.trim();
    // admin/base's default label is at its third commit.
    assert.equal(await sdk("HOST/admin/base", "HOST/admin/gosdk"), "v1.1.3");
    assert.equal(await sdk(`HOST/admin/base:${c1}`, "HOST/admin/gosdk:v1"), "v1.1.1");
    assert.equal(await sdk("HOST/admin/base:v2", "HOST/admin/gosdk"), "v1.1.2");

    // A plugin with npm runtime libraries makes the template an npm SDK: 1.{template version}.{commit seq}.
    await api("PluginService/CreatePlugin", { plugin: "admin/npmgen", visibility: "public" });
    for (const version of ["v1.0.0", "v1.1.0"]) {
      await api("PluginService/CreatePluginVersion", {
        plugin: "admin/npmgen",
        version,
        command: ["/bin/true"],
        runtimeLibraries: { npm: [{ package: "@bufbuild/protobuf", version: "^2.0.0" }] },
      });
    }
    await api("TemplateService/CreateTemplate", {
      template: "admin/tssdk",
      plugins: [{ owner: "admin", name: "npmgen" }],
      visibility: "public",
    });
    for (const version of ["v1.0.0", "v1.1.0"]) {
      await api("TemplateService/CreateTemplateVersion", {
        template: "admin/tssdk",
        pluginVersions: [{ owner: "admin", name: "npmgen", version }],
      });
    }
    assert.equal(await sdk("HOST/admin/base", "HOST/admin/tssdk"), "1.2.3");
    assert.equal(await sdk("HOST/admin/base", "HOST/admin/tssdk:v1"), "1.1.3");

    const unknown = await bufFails(work, [
      "registry",
      "sdk",
      "version",
      "--module",
      "HOST/admin/base",
      "--plugin",
      "HOST/admin/tssdk:v9",
    ]);
    assert.match(unknown, /template admin\/tssdk has no version v9 \(versions: v1, v2\)/);
    const hidden = await bufFails(
      work,
      ["registry", "sdk", "version", "--module", "HOST/acme/money", "--plugin", "HOST/admin/tssdk"],
      "mallory",
    );
    assert.match(hidden, /does not exist/);
  });

  it("deletes a module nothing depends on (owners only): its name then answers 410 and is never taken again", async () => {
    // acme/open (pushed private above) depends on acme/money.
    const refused = await bufFails(work, ["registry", "module", "delete", "HOST/acme/money", "--force"]);
    assert.match(
      refused,
      /module acme\/money cannot be deleted: other modules depend on its commits \(acme\/open\)/,
    );
    const byWriter = await bufFails(
      work,
      ["registry", "module", "delete", "HOST/acme/open", "--force"],
      "walt",
    );
    assert.match(byWriter, /permission_denied/);

    const deleted = await bufOk(work, ["registry", "module", "delete", "HOST/acme/open", "--force"]);
    assert.match(deleted.stdout, /Deleted .*\/acme\/open\./);
    const info = await bufFails(work, ["registry", "module", "info", "HOST/acme/open"]);
    assert.match(info, /module acme\/open was deleted on \d{4}-\d{2}-\d{2}; its name stays reserved/);
    // Quarantined: neither buf nor anyone else gets the name back.
    const again = await bufFails(
      join(work, "open"),
      ["push", "--create", "--create-visibility", "private"],
      "walt",
    );
    assert.match(again, /acme\/open was deleted/);
    const recreate = await bufFails(work, ["registry", "module", "create", "HOST/acme/open"]);
    assert.match(recreate, /acme\/open was deleted; its name stays reserved/);
    // Every protocol answers 410 for it; listings leave it out; a stranger still learns nothing of a private one.
    const archive = await fetch(`${server.url}/acme/open/archive/main.tar.gz`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    assert.equal(archive.status, 410);
    const stranger = await fetch(`${server.url}/acme/open/archive/main.tar.gz`, {
      headers: { authorization: `Bearer ${tokens.get("mallory")}` },
    });
    assert.equal(stranger.status, 404);
    const { modules } = (await api("ModuleService/ListModules", { owner: "acme" })) as {
      modules: { name: string }[];
    };
    assert.deepEqual(
      modules.map((m) => m.name),
      ["money"],
    );
    // Its only dependent gone, acme/money may go too.
    await bufOk(work, ["registry", "module", "delete", "HOST/acme/money", "--force"]);
  });

  it("deletes a plugin no template uses (owners only): its name then answers 410", async () => {
    // admin/echo is pinned by template admin/gosdk (above); admin/hidden is private and unused.
    const used = await bufFails(work, ["registry", "plugin", "delete", "HOST/admin/echo", "--force"]);
    assert.match(used, /plugin admin\/echo cannot be deleted: .*admin\/gosdk/);
    // A stranger learns nothing of a private plugin by trying to delete it: the same answer as for no plugin.
    const strangerOf = async (name: string) =>
      bufFails(work, ["registry", "plugin", "delete", `HOST/admin/${name}`, "--force"], "mallory");
    const hidden = await strangerOf("hidden");
    assert.match(hidden, /permission_denied: user mallory may not delete plugins of admin/);
    assert.equal(hidden, await strangerOf("nosuchplugin"));
    const deleted = await bufOk(work, ["registry", "plugin", "delete", "HOST/admin/hidden", "--force"]);
    assert.match(deleted.stdout, /Deleted .*\/admin\/hidden\./);
    const info = await bufFails(work, ["registry", "plugin", "info", "HOST/admin/hidden"]);
    assert.match(info, /plugin admin\/hidden was deleted/);
    const ours = await callApi(
      server.url,
      "PluginService/ListPluginVersions",
      { plugin: "admin/hidden" },
      adminToken,
    );
    assert.equal(ours.status, 410, await ours.text());
  });
});
