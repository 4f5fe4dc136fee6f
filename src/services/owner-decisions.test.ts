// Owner decisions need owners, and a refused write reveals nothing: the rules of the module, plugin and template
// services over the real SQLite store (docs/architecture.md, "Rules every change keeps").
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createBufChecker } from "../compile/buf-checks.js";
import { createBufCompiler } from "../compile/buf-compiler.js";
import { Code, isRegistryError } from "../core/errors.js";
import type { User } from "../core/types.js";
import { createFsBlobStore } from "../storage/blob/fs/fs-blob-store.js";
import type { MetadataStore } from "../storage/meta/metadata-store.js";
import { createSqliteMetadataStore } from "../storage/meta/sqlite/sqlite-metadata-store.js";
import { createAccessPolicy } from "./access.js";
import { anonymous, type Principal } from "./auth.js";
import { createModuleService, type ModuleService } from "./modules.js";
import { createPluginService, type PluginService } from "./plugins.js";
import { createTemplateService, type TemplateService } from "./templates.js";

type Who = "root" | "olivia" | "walt" | "rita" | "otto";

/** What a call answered: "ok", or the error's code and message. */
async function outcome(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
    return "ok";
  } catch (err) {
    if (!isRegistryError(err)) throw err;
    return `${err.code}: ${err.message}`;
  }
}

describe("owner decisions and write refusals", () => {
  let dir: string;
  let meta: MetadataStore;
  let modules: ModuleService;
  let plugins: PluginService;
  let templates: TemplateService;
  const users = new Map<Who, User>();
  const as = (who: Who): Principal => {
    const user = users.get(who);
    assert.ok(user);
    return { user, roles: new Map() };
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "protodepot-owner-decisions-"));
    meta = await createSqliteMetadataStore({ path: join(dir, "meta.sqlite") });
    for (const name of ["root", "olivia", "walt", "rita", "otto"] as const) {
      users.set(name, await meta.createUser({ name, isAdmin: name === "root" }));
    }
    const acme = await meta.createOrganization({ name: "acme", ownerUserId: users.get("olivia")?.id ?? "" });
    await meta.setMember(acme.id, users.get("walt")?.id ?? "", "writer");
    await meta.setMember(acme.id, users.get("rita")?.id ?? "", "reader");
    const access = createAccessPolicy(meta, { anonymousRead: true });
    modules = createModuleService({
      meta,
      blobs: await createFsBlobStore({ root: join(dir, "blobs"), fsync: false }),
      compiler: createBufCompiler(),
      checker: createBufChecker(),
      access,
      limits: { maxFiles: 100, maxFileBytes: 1 << 20 },
      defaultVisibility: "private",
    });
    plugins = createPluginService(meta, { access, defaultVisibility: "private" });
    templates = createTemplateService(meta, plugins, { access, defaultVisibility: "private" });
    const admin = as("root");
    await modules.createModule(admin, { owner: "acme", name: "secret" }, {});
    await modules.createModule(as("otto"), { owner: "otto", name: "mine" }, {});
    await plugins.createPlugin(admin, "acme/secret-plugin");
    await plugins.createPluginVersion(admin, {
      plugin: "acme/secret-plugin",
      version: "v1.0.0",
      command: [process.execPath],
      runtimeLibraries: {},
      registryOptions: {},
    });
    await templates.createTemplate(admin, "acme/secret-template", [
      { owner: "acme", name: "secret-plugin", parameter: "" },
    ]);
  });
  after(async () => {
    await meta.close();
    await rm(dir, { recursive: true, force: true });
  });

  const secret = { owner: "acme", name: "secret" };
  /** Every owner decision on acme's private things, each asking for what is already true. */
  const decisions: [string, (p: Principal) => Promise<unknown>][] = [
    ["module visibility", (p) => modules.updateModule(p, secret, { visibility: "private" })],
    ["push policy", (p) => modules.setPushPolicy(p, secret, "", { breaking: "reject" })],
    ["label push policy", (p) => modules.setPushPolicy(p, secret, "main", { lint: "off" })],
    ["plugin visibility", (p) => plugins.updatePlugin(p, "acme/secret-plugin", { visibility: "private" })],
    [
      "template visibility",
      (p) => templates.updateTemplate(p, "acme/secret-template", { visibility: "private" }),
    ],
    ["plugin deprecation", (p) => plugins.updatePlugin(p, "acme/secret-plugin", { deprecation: null })],
    [
      "template deprecation",
      (p) => templates.updateTemplate(p, "acme/secret-template", { deprecation: null }),
    ],
  ];

  it("lets the organization's owners and admins make owner decisions, and no writer, reader or outsider", async () => {
    for (const [what, decide] of decisions) {
      for (const who of ["root", "olivia"] as const)
        assert.equal(await outcome(() => decide(as(who))), "ok", what);
      for (const who of ["walt", "rita", "otto"] as const) {
        const got = await outcome(() => decide(as(who)));
        assert.match(
          got,
          new RegExp(
            `^${Code.PermissionDenied}: user ${who} may not .* of acme: that needs an owner of acme`,
          ),
          `${who} · ${what}`,
        );
      }
      assert.match(await outcome(() => decide(anonymous)), new RegExp(`^${Code.Unauthenticated}:`), what);
    }
  });

  it("lets a user decide for their own things, and nobody else but admins", async () => {
    const mine = { owner: "otto", name: "mine" };
    assert.equal(await outcome(() => modules.updateModule(as("otto"), mine, { visibility: "public" })), "ok");
    assert.equal(
      await outcome(() => modules.updateModule(as("root"), mine, { visibility: "private" })),
      "ok",
    );
    assert.equal(
      await outcome(() => modules.setPushPolicy(as("walt"), mine, "", { breaking: "off" })),
      `${Code.PermissionDenied}: user walt may not change push policies of otto: only otto and admins may`,
    );
  });

  it("lets writers do writers' work: labels, plugin and template versions, pushes; not readers", async () => {
    await plugins.createPluginVersion(as("root"), {
      plugin: "acme/secret-plugin",
      version: "v1.1.0",
      command: [process.execPath],
      runtimeLibraries: {},
      registryOptions: {},
    });
    const pin = [{ owner: "acme", name: "secret-plugin", version: "v1.1.0" }];
    assert.equal(
      await outcome(() => templates.createTemplateVersion(as("walt"), "acme/secret-template", pin)),
      "ok",
    );
    // A writer asking for a non-visibility change of a module (none at all) is a writer's call.
    assert.equal(await outcome(() => modules.updateModule(as("walt"), secret, {})), "ok");
    assert.match(
      await outcome(() => modules.updateModule(as("rita"), secret, {})),
      new RegExp(`^${Code.PermissionDenied}: user rita may not change modules of acme: that needs a writer`),
    );
  });

  it("deprecates plugins and templates; a template version keeps what its consumers were told then", async () => {
    const plugin = await plugins.updatePlugin(as("olivia"), "acme/secret-plugin", { deprecation: "use v2" });
    assert.equal(plugin.deprecation, "use v2");
    const template = await templates.updateTemplate(as("olivia"), "acme/secret-template", {
      deprecation: "",
    });
    assert.equal(template.deprecation, "");
    await plugins.createPluginVersion(as("root"), {
      plugin: "acme/secret-plugin",
      version: "v1.2.0",
      command: [process.execPath],
      runtimeLibraries: {},
      registryOptions: {},
    });
    const pin = [{ owner: "acme", name: "secret-plugin", version: "v1.2.0" }];
    const v = await templates.createTemplateVersion(as("walt"), "acme/secret-template", pin);
    assert.equal(
      v.deprecation,
      "template acme/secret-template is deprecated; plugin acme/secret-plugin is deprecated: use v2",
    );
    const back = await plugins.updatePlugin(as("olivia"), "acme/secret-plugin", { deprecation: null });
    assert.equal(back.deprecation, undefined);
    await templates.updateTemplate(as("olivia"), "acme/secret-template", { deprecation: null });
    assert.equal((await meta.getTemplate("acme", "secret-template"))?.deprecation, undefined);
    assert.equal((await meta.getPlugin("acme", "secret-plugin"))?.deprecation, undefined);
    // The version's record stays as it was.
    assert.equal((await meta.getTemplateVersion(v.templateId, v.number))?.deprecation, v.deprecation);
    assert.match(
      await outcome(() =>
        plugins.updatePlugin(as("olivia"), "acme/secret-plugin", { deprecation: "x".repeat(1001) }),
      ),
      new RegExp(`^${Code.InvalidArgument}: deprecation message is 1001 characters long`),
    );
  });

  it("answers a caller who may not write the same for a hidden thing and a missing one", async () => {
    const missing = { owner: "acme", name: "secrex" };
    const writes: [string, (p: Principal, name: { owner: string; name: string }) => Promise<unknown>][] = [
      ["push", (p, n) => modules.push(p, { module: `${n.owner}/${n.name}`, files: [] })],
      ["upload", (p, n) => modules.upload(p, [{ module: n, files: [], labels: [] }], [])],
      ["create label", (p, n) => modules.setLabel(p, n, "x", "main", "create")],
      ["module visibility", (p, n) => modules.updateModule(p, n, { visibility: "public" })],
      ["module change", (p, n) => modules.updateModule(p, n, {})],
      ["push policy", (p, n) => modules.setPushPolicy(p, n, "", { breaking: "off" })],
      ["create module", (p, n) => modules.createModule(p, n, {})],
      [
        "plugin visibility",
        (p, n) => plugins.updatePlugin(p, `${n.owner}/${n.name}-plugin`, { visibility: "public" }),
      ],
      [
        "plugin version",
        (p, n) =>
          plugins.createPluginVersion(p, {
            plugin: `${n.owner}/${n.name}-plugin`,
            version: "v9.0.0",
            command: [],
            protocGenerator: "python",
            runtimeLibraries: {},
            registryOptions: {},
          }),
      ],
      [
        "template visibility",
        (p, n) => templates.updateTemplate(p, `${n.owner}/${n.name}-template`, { visibility: "public" }),
      ],
      [
        "template version",
        (p, n) =>
          templates.createTemplateVersion(p, `${n.owner}/${n.name}-template`, [
            { owner: "acme", name: "secret-plugin", version: "v1.0.0" },
          ]),
      ],
    ];
    for (const [what, write] of writes) {
      for (const who of ["otto", "rita"] as const) {
        const hidden = await outcome(() => write(as(who), secret));
        const absent = await outcome(() => write(as(who), missing));
        assert.match(hidden, new RegExp(`^${Code.PermissionDenied}: `), `${who} · ${what}`);
        assert.equal(
          hidden.replaceAll("secret", "NAME"),
          absent.replaceAll("secrex", "NAME"),
          `${who} · ${what}`,
        );
        assert.doesNotMatch(hidden, /secret/, `${who} · ${what}: the refusal names the thing`);
      }
      const hidden = await outcome(() => write(anonymous, secret));
      assert.equal(hidden, await outcome(() => write(anonymous, missing)), `anonymous · ${what}`);
    }
  });
});
