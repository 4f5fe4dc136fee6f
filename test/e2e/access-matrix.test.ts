// The authorization matrix: every kind of caller × public and private modules, templates and plugins × every
// endpoint of every protocol → the expected status. A hidden thing must answer exactly as a missing one does.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  adminToken,
  callApi,
  makeDataDir,
  repoRoot,
  startTestServer,
  type TestServer,
} from "./support/server.js";

type Who =
  | "admin"
  | "owner"
  | "writer"
  | "reader"
  | "outsider"
  | "anonymous"
  | "wrong"
  | "revoked"
  | "expired"
  | "readonly"
  | "modscoped"
  | "bot";
const everyone: readonly Who[] = [
  "admin",
  "owner",
  "writer",
  "reader",
  "outsider",
  "anonymous",
  "wrong",
  "revoked",
  "expired",
  // walt's token limited to reading; walt's token limited to writing acme/pubmod; a bot of acme (writer).
  "readonly",
  "modscoped",
  "bot",
];
type Vis = "public" | "private";
const visibilities = ["public", "private"] as const;
const short = (v: Vis) => (v === "public" ? "pub" : "priv");

/** Whether a caller sees acme's things of this visibility. */
function reads(who: Who, vis: Vis): boolean {
  if (who === "wrong" || who === "revoked" || who === "expired") return false;
  return (
    vis === "public" || ["admin", "owner", "writer", "reader", "readonly", "modscoped", "bot"].includes(who)
  );
}
const writes = (who: Who) => ["admin", "owner", "writer", "bot"].includes(who);
/** Scoped tokens and bots: account changes (tokens, organizations) need a person's token without a scope. */
const limited = (who: Who) => ["readonly", "modscoped", "bot"].includes(who);
const badToken = (who: Who) => who === "wrong" || who === "revoked" || who === "expired";

/** Status of reading a thing: 401 for bad tokens, 404 when hidden, else `ok`. */
function readStatus(who: Who, visible: boolean, ok = 200): number {
  if (badToken(who)) return 401;
  return visible ? ok : 404;
}

const manages = (who: Who) => ["admin", "owner"].includes(who);

/**
 * Status of changing a thing of acme: not a writer → 403 (401 anonymous), decided from the owner alone, so a
 * hidden thing answers exactly as a missing one (compared below).
 */
function writeStatus(who: Who, _vis: Vis, ok = 200): number {
  if (badToken(who) || who === "anonymous") return 401;
  return writes(who) ? ok : 403;
}

/** Status of changing one module of acme: writers, and a token scoped to that module. */
function moduleWriteStatus(who: Who, module: string, ok = 200): number {
  if (badToken(who) || who === "anonymous") return 401;
  return writes(who) || (who === "modscoped" && module === "pubmod") ? ok : 403;
}

/** Status of an owner decision (visibility, push policy, membership): acme's owners and admins only. */
function manageStatus(who: Who, ok = 200): number {
  if (badToken(who) || who === "anonymous") return 401;
  return manages(who) ? ok : 403;
}

/** Creating under acme: anyone authenticated who is not a writer gets 403 (the owner's existence is public). */
function createStatus(who: Who, ok = 200): number {
  if (badToken(who) || who === "anonymous") return 401;
  return writes(who) ? ok : 403;
}

const moduleFiles = (name: string) => [
  {
    path: "buf.yaml",
    content: Buffer.from(`version: v1\nname: buf.build/acme/${name}\n`).toString("base64"),
  },
  {
    path: `acme/${name.replaceAll("-", "")}/v1/m.proto`,
    content: Buffer.from(
      `syntax = "proto3";\npackage acme.${name.replaceAll("-", "")}.v1;\nmessage M { string id = 1; }\n`,
    ).toString("base64"),
  },
];

/** A template of one visibility × a module of one, as the cells of generated code see them. */
interface Pair {
  tv: Vis;
  mv: Vis;
  tpl: string;
  mod: string;
  visible: boolean;
  swap: (path: string) => string;
}

interface Cell {
  what: string;
  who: Who;
  expected: number;
  /** The response of the same request for a thing that does not exist, when the expected answer is "hidden". */
  missing?: () => Promise<{ status: number; body: string }>;
  /** The caller may not see the thing: its answer, whatever it is, must equal `missing`'s. */
  hidden?: boolean;
  run: (token: string | undefined) => Promise<{ status: number; body: string }>;
}

describe("authorization matrix", () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;
  const tokens = new Map<Who, string | undefined>();
  const commits = new Map<Vis, string>();

  const api = async (method: string, body: unknown, token: string | undefined) => {
    const res = await callApi(server.url, method, body, token);
    return { status: res.status, body: await res.text() };
  };
  const ok = async (method: string, body: unknown, token: string = adminToken) => {
    const res = await api(method, body, token);
    assert.equal(res.status, 200, `${method}: ${res.body}`);
    return JSON.parse(res.body) as Record<string, unknown>;
  };
  const get = async (path: string, token: string | undefined) => {
    const res = await fetch(
      `${server.url}${path}`,
      token ? { headers: { authorization: `Bearer ${token}` } } : {},
    );
    return { status: res.status, body: await res.text() };
  };

  /** buf's push (Connect JSON): the module's files without buf.yaml. */
  const bufUpload = async (module: string, token: string | undefined) => {
    const res = await fetch(`${server.url}/buf.registry.module.v1.UploadService/Upload`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({
        contents: [
          {
            moduleRef: { name: { owner: "acme", module } },
            files: moduleFiles(module).filter((f) => f.path !== "buf.yaml"),
          },
        ],
      }),
    });
    return { status: res.status, body: await res.text() };
  };

  before(async () => {
    data = await makeDataDir();
    // The CMake and Cargo cells' generations fail for good (these plugins make neither C++ nor crates): the first
    // visible caller's runs them, the others get the same remembered error instead of running them again (with
    // the default 5 s memory, each caller's turn came after it had lapsed).
    server = await startTestServer({
      dataDir: data.dir,
      orgs: ["acme"],
      env: { PROTODEPOT_PLUGINS_FAILURE_MEMORY_MS: String(10 * 60_000) },
    });
    for (const name of ["olivia", "walt", "rita", "otto"]) await ok("UserService/CreateUser", { name });
    const tokenOf = async (user: string, extra: Record<string, unknown> = {}) =>
      (await ok("UserService/CreateToken", { user, ...extra })).token as string;
    tokens.set("admin", adminToken);
    tokens.set("owner", await tokenOf("olivia"));
    tokens.set("writer", await tokenOf("walt"));
    tokens.set("reader", await tokenOf("rita"));
    tokens.set("outsider", await tokenOf("otto"));
    tokens.set("anonymous", undefined);
    tokens.set("wrong", "pd_this-token-was-never-issued-000000");
    const revoked = await ok("UserService/CreateToken", { user: "walt", note: "to revoke" });
    await ok("UserService/RevokeToken", { tokenId: revoked.tokenId });
    tokens.set("revoked", revoked.token as string);
    const expiresSoon = new Date(Date.now() + 1500).toISOString();
    tokens.set("expired", await tokenOf("walt", { expireTime: expiresSoon }));
    tokens.set("readonly", await tokenOf("walt", { scopes: ["read"] }));
    tokens.set("modscoped", await tokenOf("walt", { scopes: ["write:acme/pubmod"] }));
    await ok("BotService/CreateBot", { organization: "acme", name: "acme-bot" });
    await ok("OrganizationService/AddMember", { organization: "acme", user: "olivia", role: "owner" });
    await ok("OrganizationService/AddMember", { organization: "acme", user: "walt", role: "writer" });
    await ok("OrganizationService/AddMember", { organization: "acme", user: "rita", role: "reader" });
    await ok("UserService/CreateUser", { name: "temp" });
    tokens.set("bot", await tokenOf("acme-bot"));

    const es = join(repoRoot, "node_modules/.bin/protoc-gen-es");
    for (const vis of ["public", "private"] as const) {
      const short = vis === "public" ? "pub" : "priv";
      await ok("PluginService/CreatePlugin", { plugin: `acme/${short}plug`, visibility: vis });
      // One version per caller, so each writer's template version pins something new.
      for (let i = 0; i <= everyone.length; i++) {
        await ok("PluginService/CreatePluginVersion", {
          plugin: `acme/${short}plug`,
          version: `v1.0.${i}`,
          command: [es],
        });
      }
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
      const pushed = await ok("ModuleService/Push", { files: moduleFiles(`${short}mod`) });
      commits.set(vis, (pushed.commit as { id: string }).id);
    }
    // One private module, plugin and template per caller that the cells below really make public and back.
    for (let i = 0; i < everyone.length; i++) {
      await ok("ModuleService/CreateModule", { module: `acme/flip-mod-${i}`, visibility: "private" });
      // …and one of each that the delete cells really delete (owners and admins) or must leave alone.
      await ok("ModuleService/CreateModule", { module: `acme/del-mod-${i}`, visibility: "private" });
      await ok("PluginService/CreatePlugin", { plugin: `acme/del-plug-${i}`, visibility: "private" });
      await ok("TemplateService/CreateTemplate", {
        template: `acme/del-tpl-${i}`,
        visibility: "private",
        plugins: [{ owner: "acme", name: "pubplug" }],
      });
      await ok("PluginService/CreatePlugin", { plugin: `acme/flip-plug-${i}`, visibility: "private" });
      await ok("TemplateService/CreateTemplate", {
        template: `acme/flip-tpl-${i}`,
        visibility: "private",
        plugins: [{ owner: "acme", name: "pubplug" }],
      });
    }
    // Let the short-lived token expire before the matrix runs.
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(expiresSoon) - Date.now() + 100)));
  });
  after(async () => {
    await server.stop();
    await data.remove();
  });

  /** Module sources: the pushed files' archive. */
  function sourceCells(who: Who): Cell[] {
    const cells: Cell[] = [];
    for (const mv of visibilities) {
      const mod = `${short(mv)}mod`;
      cells.push({
        what: `GET sources of ${mv} module`,
        who,
        expected: readStatus(who, reads(who, mv)),
        missing: () => get(`/acme/nomod/archive/main.tar.gz`, tokens.get(who)),
        run: (t) => get(`/acme/${mod}/archive/main.tar.gz`, t),
      });
      cells.push({
        what: `GET descriptor of ${mv} module`,
        who,
        expected: readStatus(who, reads(who, mv)),
        missing: () => get(`/acme/nomod/descriptor/main`, tokens.get(who)),
        run: (t) => get(`/acme/${mod}/descriptor/main`, t),
      });
    }
    return cells;
  }

  /** One template × module pair, and the same request with its hidden part swapped for a missing name. */
  function pairOf(who: Who, tv: Vis, mv: Vis) {
    const tpl = `${short(tv)}tpl`;
    const mod = `${short(mv)}mod`;
    const visible = reads(who, tv) && reads(who, mv);
    const hiddenPart = !reads(who, tv) ? "tpl" : "mod";
    // The same request with the hidden part replaced by a name that exists nowhere (same length).
    const swap = (path: string) =>
      hiddenPart === "tpl"
        ? path
            .replaceAll(`acme_${tpl}`, `acme_${"x".repeat(tpl.length)}`)
            .replaceAll(`acme-${tpl}`, `acme-${"x".repeat(tpl.length)}`)
            .replaceAll(`acme/${tpl}/`, `acme/${"x".repeat(tpl.length)}/`)
        : path
            .replaceAll(`acme_${mod}`, `acme_${"x".repeat(mod.length)}`)
            .replaceAll(`acme-${mod}`, `acme-${"x".repeat(mod.length)}`)
            .replaceAll(`acme/${mod}`, `acme/${"x".repeat(mod.length)}`);
    return { tv, mv, tpl, mod, visible, swap };
  }

  /** Generated code on every download endpoint of every registry. */
  function downloadCells(who: Who, pair: Pair): Cell[] {
    const cells: Cell[] = [];
    const { tv, mv, tpl, mod, visible, swap } = pair;
    const pkg = `@protodepot%2facme_${tpl}_acme_${mod}`;
    const endpoints: [string, string][] = [
      ["archive", `/v1/acme/${tpl}/latest/acme/${mod}/main.tar.gz`],
      ["archive imports", `/v1/acme/${tpl}/v1/acme/${mod}/main.include_imports.tar.gz`],
      ["archive imports+wkt", `/v1/acme/${tpl}/v1/acme/${mod}/main.include_imports_and_wkt.tar.gz`],
      ["go list", `/go/protodepot.local/acme/${tpl}/acme/${mod}/@v/list`],
      ["go info", `/go/protodepot.local/acme/${tpl}/acme/${mod}/@v/v1.1.1.info`],
      ["go mod", `/go/protodepot.local/acme/${tpl}/acme/${mod}/@v/v1.1.1.mod`],
      ["go zip", `/go/protodepot.local/acme/${tpl}/acme/${mod}/@v/v1.1.1.zip`],
      ["go latest", `/go/protodepot.local/acme/${tpl}/acme/${mod}/@latest`],
      ["npm packument", `/npm/${pkg}`],
      ["npm dist-tags", `/npm/-/package/${pkg}/dist-tags`],
      ["npm tarball", `/npm/@protodepot/acme_${tpl}_acme_${mod}/-/acme_${tpl}_acme_${mod}-1.1.1.tgz`],
      ["pypi project", `/pypi/simple/acme-${tpl}-acme-${mod}/`],
      ["pypi wheel", `/pypi/files/acme-${tpl}-acme-${mod}/acme_${tpl}_acme_${mod}-1.1.1-py3-none-any.whl`],
      [
        "pypi metadata",
        `/pypi/files/acme-${tpl}-acme-${mod}/acme_${tpl}_acme_${mod}-1.1.1-py3-none-any.whl.metadata`,
      ],
      ["archive zip", `/v1/acme/${tpl}/v1/acme/${mod}/main.zip`],
      ["gem info", `/gems/info/acme_${tpl}_acme_${mod}`],
      ["gem", `/gems/gems/acme_${tpl}_acme_${mod}-1.1.1.gem`],
      ["gem quick spec", `/gems/quick/Marshal.4.8/acme_${tpl}_acme_${mod}-1.1.1.gemspec.rz`],
    ];
    for (const [endpoint, path] of endpoints) {
      cells.push({
        what: `${endpoint} of ${tv} template × ${mv} module`,
        who,
        expected: readStatus(who, visible),
        missing: () => get(swap(path), tokens.get(who)),
        run: (t) => get(path, t),
      });
    }
    return cells;
  }

  /** Cargo and CMake, whose answers for a visible thing these plugins cannot build are 422s. */
  function nativeBuildCells(who: Who, pair: Pair): Cell[] {
    const cells: Cell[] = [];
    const { tv, mv, tpl, mod, visible, swap } = pair;
    // Cargo's token root: cargo's bare token (no scheme); anonymous callers are challenged before anything.
    const bare = async (path: string, token: string | undefined) => {
      const res = await fetch(`${server.url}${path}`, token ? { headers: { authorization: token } } : {});
      return { status: res.status, body: await res.text() };
    };
    // These templates run no plugin with a Rust runtime library: a visible crate is a 422 (it makes no
    // crates), a hidden one the 404 of a missing one.
    const crate = `acme_${tpl}_acme_${mod}`;
    for (const [endpoint, path, send] of [
      ["cargo index", `/cargo/index/ac/me/${crate}`, get],
      ["cargo crate", `/cargo/crates/${crate}/1.1.1/download`, get],
      ["cargo token index", `/cargo/token/index/ac/me/${crate}`, bare],
      ["cargo token crate", `/cargo/token/crates/${crate}/1.1.1/download`, bare],
    ] as const) {
      const anonymousRefused = who === "anonymous" && endpoint.startsWith("cargo token");
      cells.push({
        what: `${endpoint} of ${tv} template × ${mv} module`,
        who,
        expected: anonymousRefused ? 401 : readStatus(who, visible, 422),
        missing: () => send(swap(path), tokens.get(who)),
        hidden: !visible,
        run: (t) => send(path, t),
      });
    }
    // CMake archives: these templates generate no C++, so a visible one is a 422 (nothing to build), a hidden
    // one the 404 of a missing one.
    const cmakePath = `/cmake/acme/${tpl}/acme/${mod}/1.1.1.tar.gz`;
    cells.push({
      what: `cmake archive of ${tv} template × ${mv} module`,
      who,
      expected: readStatus(who, visible, 422),
      missing: () => get(swap(cmakePath), tokens.get(who)),
      hidden: !visible,
      run: (t) => get(cmakePath, t),
    });
    return cells;
  }

  /** Generated code: template × module, on every generated-code endpoint. */
  function generatedCodeCells(who: Who): Cell[] {
    const cells: Cell[] = [];
    for (const tv of visibilities) {
      for (const mv of visibilities) {
        const pair = pairOf(who, tv, mv);
        cells.push(...downloadCells(who, pair), ...nativeBuildCells(who, pair));
      }
    }
    return cells;
  }

  function gemTokenCell(who: Who): Cell {
    // gem and Bundler send the token as the Basic user name (TOKEN:), read so on /gems/ only.
    return {
      what: "gem info of private template × private module, token as gem sends it",
      who,
      expected: readStatus(who, reads(who, "private")),
      run: async (t) => {
        const headers: Record<string, string> = t
          ? { authorization: `Basic ${Buffer.from(`${t}:`).toString("base64")}` }
          : {};
        const res = await fetch(`${server.url}/gems/info/acme_privtpl_acme_privmod`, { headers });
        return { status: res.status, body: await res.text() };
      },
    };
  }

  /** Management API reads of things, and lists that must show private things only to readers. */
  function apiReadCells(who: Who): Cell[] {
    const cells: Cell[] = [];
    for (const v of visibilities) {
      const s = short(v);
      const visible = reads(who, v);
      const reads_: [string, string, Record<string, unknown>, Record<string, unknown>][] = [
        ["ListCommits", "ModuleService/ListCommits", { module: `acme/${s}mod` }, { module: "acme/nomod" }],
        [
          "GetCommit",
          "ModuleService/GetCommit",
          { module: `acme/${s}mod`, ref: "main" },
          { module: "acme/nomod", ref: "main" },
        ],
        [
          "ListCommitFiles",
          "ModuleService/ListCommitFiles",
          { module: `acme/${s}mod`, ref: "" },
          { module: "acme/nomod", ref: "" },
        ],
        ["ListLabels", "ModuleService/ListLabels", { module: `acme/${s}mod` }, { module: "acme/nomod" }],
        [
          "ListPluginVersions",
          "PluginService/ListPluginVersions",
          { plugin: `acme/${s}plug` },
          { plugin: "acme/noplug" },
        ],
        [
          "GetTemplate",
          "TemplateService/GetTemplate",
          { template: `acme/${s}tpl` },
          { template: "acme/notpl" },
        ],
        [
          "ListTemplateVersions",
          "TemplateService/ListTemplateVersions",
          { template: `acme/${s}tpl` },
          { template: "acme/notpl" },
        ],
      ];
      for (const [name, method, body, missingBody] of reads_) {
        cells.push({
          what: `${name} of ${v} thing`,
          who,
          expected: readStatus(who, visible),
          missing: () => api(method, missingBody, tokens.get(who)),
          run: (t) => api(method, body, t),
        });
      }
    }
    // Lists: 200 for every valid caller, and private things only for those who read them (checked below).
    for (const [name, method] of [
      ["ListModules", "ModuleService/ListModules"],
      ["ListPlugins", "PluginService/ListPlugins"],
      ["ListTemplates", "TemplateService/ListTemplates"],
    ] as const) {
      cells.push({
        what: `${name} (lists private things only to readers)`,
        who,
        expected: badToken(who) ? 401 : 200,
        run: async (t) => {
          const res = await api(method, { owner: "acme" }, t);
          if (res.status === 200 && res.body.includes("priv") !== reads(who, "private")) {
            return { status: 599, body: `list leaks or hides: ${res.body}` };
          }
          return res;
        },
      });
    }
    return cells;
  }

  /** Management API writes of modules. */
  function moduleWriteCells(who: Who, v: Vis): Cell[] {
    const s = short(v);
    return [
      {
        what: `Push identical content to ${v} module`,
        who,
        expected: moduleWriteStatus(who, `${s}mod`),
        missing: () => api("ModuleService/Push", { files: moduleFiles("nomod") }, tokens.get(who)),
        run: (t) => api("ModuleService/Push", { files: moduleFiles(`${s}mod`) }, t),
      },
      {
        what: `buf Upload to ${v} module`,
        who,
        expected: moduleWriteStatus(who, `${s}mod`),
        missing: () => bufUpload("nomod", tokens.get(who)),
        run: (t) => bufUpload(`${s}mod`, t),
      },
      {
        what: `MoveLabel main of ${v} module to its head`,
        who,
        expected: moduleWriteStatus(who, `${s}mod`),
        missing: () =>
          api(
            "ModuleService/MoveLabel",
            { module: "acme/nomod", label: "main", ref: commits.get(v) },
            tokens.get(who),
          ),
        run: (t) =>
          api("ModuleService/MoveLabel", { module: `acme/${s}mod`, label: "main", ref: commits.get(v) }, t),
      },
      {
        what: `CreateLabel on ${v} module`,
        who,
        expected: moduleWriteStatus(who, `${s}mod`),
        missing: () =>
          api(
            "ModuleService/CreateLabel",
            { module: "acme/nomod", label: `by-${everyone.indexOf(who)}`, ref: commits.get(v) },
            tokens.get(who),
          ),
        run: (t) =>
          api(
            "ModuleService/CreateLabel",
            { module: `acme/${s}mod`, label: `by-${everyone.indexOf(who)}`, ref: commits.get(v) },
            t,
          ),
      },
      {
        // Asking for a visibility is an owner decision even when it changes nothing.
        what: `UpdateModule ${v} module visibility (unchanged)`,
        who,
        expected: manageStatus(who),
        missing: () =>
          api("ModuleService/UpdateModule", { module: "acme/nomod", visibility: v }, tokens.get(who)),
        run: (t) => api("ModuleService/UpdateModule", { module: `acme/${s}mod`, visibility: v }, t),
      },
      {
        what: `UpdateModule ${v} module push policy (unchanged)`,
        who,
        expected: manageStatus(who),
        missing: () =>
          api(
            "ModuleService/UpdateModule",
            { module: "acme/nomod", policy: { breaking: "off" } },
            tokens.get(who),
          ),
        run: (t) =>
          api("ModuleService/UpdateModule", { module: `acme/${s}mod`, policy: { breaking: "off" } }, t),
      },
    ];
  }

  /** Management API writes of plugins and templates. */
  function pluginTemplateWriteCells(who: Who, v: Vis): Cell[] {
    const s = short(v);
    return [
      {
        what: `UpdatePlugin ${v} plugin visibility (unchanged)`,
        who,
        expected: manageStatus(who),
        missing: () =>
          api("PluginService/UpdatePlugin", { plugin: "acme/noplug", visibility: v }, tokens.get(who)),
        run: (t) => api("PluginService/UpdatePlugin", { plugin: `acme/${s}plug`, visibility: v }, t),
      },
      {
        what: `UpdateTemplate ${v} template visibility (unchanged)`,
        who,
        expected: manageStatus(who),
        missing: () =>
          api("TemplateService/UpdateTemplate", { template: "acme/notpl", visibility: v }, tokens.get(who)),
        run: (t) => api("TemplateService/UpdateTemplate", { template: `acme/${s}tpl`, visibility: v }, t),
      },
      {
        what: `CreateTemplateVersion of ${v} template`,
        who,
        expected: writeStatus(who, v),
        missing: () =>
          api(
            "TemplateService/CreateTemplateVersion",
            {
              template: "acme/notpl",
              pluginVersions: [
                { owner: "acme", name: `${s}plug`, version: `v1.0.${everyone.indexOf(who) + 1}` },
              ],
            },
            tokens.get(who),
          ),
        run: (t) =>
          api(
            "TemplateService/CreateTemplateVersion",
            {
              template: `acme/${s}tpl`,
              pluginVersions: [
                { owner: "acme", name: `${s}plug`, version: `v1.0.${everyone.indexOf(who) + 1}` },
              ],
            },
            t,
          ),
      },
      {
        what: `CreatePluginVersion (host command) of ${v} plugin`,
        who,
        // Host commands run programs of the server: admins only, whatever the caller's role.
        expected: badToken(who) || who === "anonymous" ? 401 : who === "admin" ? 200 : 403,
        missing: () =>
          api(
            "PluginService/CreatePluginVersion",
            { plugin: "acme/noplug", version: `v2.0.${everyone.indexOf(who)}`, command: ["/bin/true"] },
            tokens.get(who),
          ),
        run: (t) =>
          api(
            "PluginService/CreatePluginVersion",
            { plugin: `acme/${s}plug`, version: `v2.0.${everyone.indexOf(who)}`, command: ["/bin/true"] },
            t,
          ),
      },
    ];
  }

  function writeCellsOf(who: Who): Cell[] {
    // Management API writes. Each is an idempotent or per-caller change, so cells do not depend on each other.
    // Each also runs on a thing that does not exist: a caller who cannot see the thing gets the same answer.
    const cells: Cell[] = [];
    for (const v of visibilities) {
      const hidden = !reads(who, v);
      const writeCells = [...moduleWriteCells(who, v), ...pluginTemplateWriteCells(who, v)];
      // Writes of things the caller may not see: the same answer as for a missing thing (the owner is public).
      for (const cell of writeCells) cells.push(badToken(who) ? cell : { ...cell, hidden });
    }
    return cells;
  }

  /** Owner decisions: visibility flips, push policies, membership. */
  function ownerDecisionCells(who: Who): Cell[] {
    const cells: Cell[] = [];
    const i = everyone.indexOf(who);
    // Owner decisions that really change something: each caller's own private thing made public, then private
    // again; a refusal must leave it private (checked after the matrix), and reads as a missing thing's.
    const flips: [string, string, string, string][] = [
      ["module", "ModuleService/UpdateModule", "module", `acme/flip-mod-${i}`],
      ["plugin", "PluginService/UpdatePlugin", "plugin", `acme/flip-plug-${i}`],
      ["template", "TemplateService/UpdateTemplate", "template", `acme/flip-tpl-${i}`],
    ];
    // Deletion is an owner decision, refused before the lookup (a hidden thing answers as a missing one).
    const deletions: [string, string, string, string][] = [
      ["module", "ModuleService/DeleteModule", "module", `acme/del-mod-${i}`],
      ["plugin", "PluginService/DeletePlugin", "plugin", `acme/del-plug-${i}`],
      ["template", "TemplateService/DeleteTemplate", "template", `acme/del-tpl-${i}`],
    ];
    for (const [kind, method, field, name] of deletions) {
      cells.push({
        what: `delete a private ${kind}`,
        who,
        expected: manageStatus(who),
        hidden: !badToken(who) && !reads(who, "private"),
        missing: () => api(method, { [field]: `acme/no${kind}` }, tokens.get(who)),
        run: (t) => api(method, { [field]: name }, t),
      });
    }
    for (const [kind, method, field, name] of flips) {
      const flip = async (target: string, t: string | undefined) => {
        const res = await api(method, { [field]: target, visibility: "public" }, t);
        if (res.status !== 200) return res;
        return api(method, { [field]: target, visibility: "private" }, t);
      };
      cells.push({
        what: `make a private ${kind} public and private again`,
        who,
        expected: manageStatus(who),
        hidden: !badToken(who) && !reads(who, "private"),
        missing: () => flip(`acme/no${kind}`, tokens.get(who)),
        run: (t) => flip(name, t),
      });
    }
    cells.push(
      {
        what: "UpdateModule switching the push policy off and on again",
        who,
        expected: manageStatus(who),
        hidden: !badToken(who) && !reads(who, "private"),
        missing: () =>
          api(
            "ModuleService/UpdateModule",
            { module: "acme/nomod", policy: { breaking: "off" } },
            tokens.get(who),
          ),
        run: async (t) => {
          const off = await api(
            "ModuleService/UpdateModule",
            { module: "acme/privmod", policy: { breaking: "off" } },
            t,
          );
          if (off.status !== 200) return off;
          return api(
            "ModuleService/UpdateModule",
            { module: "acme/privmod", policy: { breaking: "reject" } },
            t,
          );
        },
      },
      {
        what: "AddMember making oneself an owner of acme",
        who,
        expected: manageStatus(who),
        run: (t) =>
          api(
            "OrganizationService/AddMember",
            {
              organization: "acme",
              user:
                who === "admin"
                  ? "olivia"
                  : ((
                      { owner: "olivia", writer: "walt", reader: "rita", outsider: "otto" } as Record<
                        string,
                        string
                      >
                    )[who] ?? "walt"),
              role: "owner",
            },
            t,
          ),
      },
    );
    return cells;
  }

  /** Creating things under acme, and the organization's members. */
  function createCells(who: Who): Cell[] {
    const i = everyone.indexOf(who);
    return [
      {
        what: "CreateModule under acme",
        who,
        expected: createStatus(who),
        run: (t) => api("ModuleService/CreateModule", { module: `acme/new-module-${i}` }, t),
      },
      {
        what: "CreatePlugin under acme",
        who,
        expected: createStatus(who),
        run: (t) => api("PluginService/CreatePlugin", { plugin: `acme/new-plugin-${i}` }, t),
      },
      {
        what: "CreateTemplate under acme",
        who,
        expected: createStatus(who),
        run: (t) =>
          api(
            "TemplateService/CreateTemplate",
            { template: `acme/new-template-${i}`, plugins: [{ owner: "acme", name: "pubplug" }] },
            t,
          ),
      },
      {
        what: "CreateOrganization",
        who,
        expected: badToken(who) || who === "anonymous" ? 401 : limited(who) ? 403 : 200,
        run: (t) => api("OrganizationService/CreateOrganization", { name: `org-${i}` }, t),
      },
      {
        what: "ListMembers of acme",
        who,
        expected: badToken(who) || who === "anonymous" ? 401 : who === "outsider" ? 403 : 200,
        run: (t) => api("OrganizationService/ListMembers", { organization: "acme" }, t),
      },
      {
        what: "AddMember then RemoveMember of acme",
        who,
        expected: badToken(who) || who === "anonymous" ? 401 : who === "admin" || who === "owner" ? 200 : 403,
        run: async (t) => {
          const add = await api(
            "OrganizationService/AddMember",
            { organization: "acme", user: "temp", role: "reader" },
            t,
          );
          if (add.status !== 200) return add;
          return api("OrganizationService/RemoveMember", { organization: "acme", user: "temp" }, t);
        },
      },
    ];
  }

  /** Accounts: the caller's own organizations, tokens and users. */
  function accountCells(who: Who): Cell[] {
    const i = everyone.indexOf(who);
    return [
      {
        what: "ListOrganizations",
        who,
        expected: badToken(who) || who === "anonymous" ? 401 : 200,
        run: (t) => api("OrganizationService/ListOrganizations", {}, t),
      },
      {
        what: "GetServerInfo",
        who,
        expected: badToken(who) ? 401 : 200,
        run: (t) => api("ServerService/GetServerInfo", {}, t),
      },
      {
        what: "WhoAmI",
        who,
        expected: badToken(who) || who === "anonymous" ? 401 : 200,
        run: (t) => api("UserService/WhoAmI", {}, t),
      },
      {
        what: "ListTokens",
        who,
        expected: badToken(who) || who === "anonymous" ? 401 : 200,
        run: (t) => api("UserService/ListTokens", {}, t),
      },
      {
        what: "ListUsers",
        who,
        expected: badToken(who) || who === "anonymous" ? 401 : who === "admin" ? 200 : 403,
        run: (t) => api("UserService/ListUsers", {}, t),
      },
      {
        what: "CreateUser",
        who,
        expected: badToken(who) || who === "anonymous" ? 401 : who === "admin" ? 200 : 403,
        run: (t) => api("UserService/CreateUser", { name: `user-${i}` }, t),
      },
      {
        what: "CreateToken for oneself",
        who,
        expected: badToken(who) || who === "anonymous" ? 401 : limited(who) ? 403 : 200,
        run: (t) => api("UserService/CreateToken", { note: "matrix" }, t),
      },
      {
        what: "RevokeToken of a token the caller does not hold",
        who,
        expected: badToken(who) || who === "anonymous" ? 401 : limited(who) ? 403 : 404,
        run: (t) => api("UserService/RevokeToken", { tokenId: "0".repeat(32) }, t),
      },
    ];
  }

  it("answers every caller on every endpoint as the access policy says, and hides exactly as it misses", async () => {
    // Every caller's reads before anyone's changes: a writer's push or template version would otherwise make the
    // next caller's downloads cold generations again; reads change nothing a later cell meets.
    const readCells: Cell[] = [];
    const changeCells: Cell[] = [];
    for (const who of everyone) {
      readCells.push(
        ...sourceCells(who),
        ...generatedCodeCells(who),
        gemTokenCell(who),
        ...apiReadCells(who),
      );
      changeCells.push(
        ...writeCellsOf(who),
        ...ownerDecisionCells(who),
        ...createCells(who),
        ...accountCells(who),
      );
    }
    const cells = [...readCells, ...changeCells];

    const failures: string[] = [];
    let hiddenCompared = 0;
    for (const cell of cells) {
      const token = tokens.get(cell.who);
      const res = await cell.run(token);
      if (res.status !== cell.expected) {
        failures.push(
          `${cell.who} · ${cell.what}: expected ${cell.expected}, got ${res.status}: ${res.body.slice(0, 200)}`,
        );
        continue;
      }
      if ((cell.expected === 404 || cell.hidden) && cell.missing) {
        // Hidden and missing must be indistinguishable: same status, same body up to the name that was asked for.
        const missing = await cell.missing();
        const norm = (body: string) =>
          body.replace(/acme[/_-](pub|priv)(mod|tpl|plug)|acme[/_-](x+|nomod|notpl|noplug)/g, "NAME");
        if (missing.status !== res.status || norm(missing.body) !== norm(res.body)) {
          failures.push(
            `${cell.who} · ${cell.what}: hidden answers differently from missing:\n  hidden:  ${res.body}\n  missing: ${missing.body}`,
          );
        }
        hiddenCompared++;
      }
    }
    process.stdout.write(
      `authorization matrix: ${cells.length} cells checked, ${hiddenCompared} hidden-vs-missing bodies compared\n`,
    );
    // Refused owner decisions changed nothing: every flip thing is private, acme's roles are as they were.
    for (let i = 0; i < everyone.length; i++) {
      const listed = await ok("ModuleService/ListModules", { owner: "acme" });
      const flipped = (listed.modules as { name: string; visibility: string }[]).find(
        (m) => m.name === `flip-mod-${i}`,
      );
      if (flipped?.visibility !== "private") failures.push(`flip-mod-${i} is ${flipped?.visibility}`);
    }
    const members = await ok("OrganizationService/ListMembers", { organization: "acme" });
    const roleOf = (name: string) =>
      (members.members as { user: string; role: string }[]).find((m) => m.user === name)?.role;
    const roles = ["olivia", "walt", "rita", "otto"].map(roleOf).join(",");
    if (roles !== "owner,writer,reader,") failures.push(`acme's roles changed: ${roles}`);
    assert.deepEqual(failures, []);
    assert.ok(cells.length > 500);
  });
});
