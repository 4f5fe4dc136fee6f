// Template rules over the real SQLite store: what could never generate is refused at creation.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Code, isRegistryError } from "../core/errors.js";
import type { MetadataStore } from "../storage/meta/metadata-store.js";
import { createSqliteMetadataStore } from "../storage/meta/sqlite/sqlite-metadata-store.js";
import { createAccessPolicy } from "./access.js";
import type { Principal } from "./auth.js";
import { createPluginService } from "./plugins.js";
import { createTemplateService, type TemplateService } from "./templates.js";

const fails = (code: Code, message: RegExp) => (err: unknown) => {
  assert.ok(isRegistryError(err, code), String(err));
  assert.match(err.message, message);
  return true;
};

describe("template service", () => {
  let dir: string;
  let meta: MetadataStore;
  let admin: Principal;
  let templates: TemplateService;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "protodepot-templates-"));
    meta = await createSqliteMetadataStore({ path: join(dir, "meta.sqlite") });
    const user = await meta.createUser({ name: "admin", isAdmin: true });
    admin = { user };
    await meta.createOrganization({ name: "acme", ownerUserId: user.id });
    const access = createAccessPolicy(meta, { anonymousRead: true });
    const plugins = createPluginService(meta, { access, defaultVisibility: "public" });
    templates = createTemplateService(meta, plugins, { access, defaultVisibility: "public" });
    await plugins.createPlugin(admin, "acme/gen");
    for (const version of ["v1.0.0", "v1.1.0"]) {
      await plugins.createPluginVersion(admin, {
        plugin: "acme/gen",
        version,
        command: [process.execPath],
        runtimeLibraries: {},
        registryOptions: {},
      });
    }
  });
  after(async () => {
    await meta.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("refuses the same plugin twice", async () => {
    await assert.rejects(
      templates.createTemplate(admin, "acme/twice", [
        { owner: "acme", name: "gen", parameter: "a" },
        { owner: "acme", name: "gen", parameter: "b" },
      ]),
      fails(Code.InvalidArgument, /plugin acme\/gen is listed twice \(plugins\[1\]\)/),
    );
  });

  it("refuses a NUL byte or a newline in a parameter", async () => {
    for (const parameter of ["paths=source_relative\0x", "a\nb"]) {
      await assert.rejects(
        templates.createTemplate(admin, "acme/nul", [{ owner: "acme", name: "gen", parameter }]),
        fails(
          Code.InvalidArgument,
          /parameter of plugin acme\/gen \(plugins\[0\]\) contains a control character/,
        ),
      );
    }
    assert.equal(await meta.getTemplate("acme", "nul"), undefined, "nothing was stored");
  });

  it("refuses a template version that pins what the latest already pins", async () => {
    await templates.createTemplate(admin, "acme/ts", [{ owner: "acme", name: "gen", parameter: "x=1" }]);
    const pins = [{ owner: "acme", name: "gen", version: "v1.0.0" }];
    const v1 = await templates.createTemplateVersion(admin, "acme/ts", pins);
    assert.equal(v1.number, 1);
    await assert.rejects(
      templates.createTemplateVersion(admin, "acme/ts", pins),
      fails(Code.AlreadyExists, /template acme\/ts v1 already pins acme\/gen:v1\.0\.0/),
    );
    const v2 = await templates.createTemplateVersion(admin, "acme/ts", [
      { owner: "acme", name: "gen", version: "v1.1.0" },
    ]);
    assert.equal(v2.number, 2);
    // Going back to the older pins is a real change against the latest, so it is allowed.
    const v3 = await templates.createTemplateVersion(admin, "acme/ts", pins);
    assert.equal(v3.number, 3);
  });
});
