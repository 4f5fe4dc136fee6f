// Which (template, module) a package name reads as: a deleted template answers Gone, not "no such package".
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, isRegistryError, RegistryError } from "../core/errors.js";
import type { Module, Template } from "../core/types.js";
import { createPackageDirectory } from "./package-directory.js";

const ref = (t: string, m: string) => {
  const [to = "", tn = ""] = t.split("/");
  const [mo = "", mn = ""] = m.split("/");
  return { template: { owner: to, name: tn }, module: { owner: mo, name: mn } };
};

const module: Module = {
  id: "m",
  owner: "",
  name: "",
  visibility: "public",
  defaultLabel: "main",
  createdAt: "2026-02-01",
};
const template: Template = {
  id: "t",
  owner: "",
  name: "",
  visibility: "public",
  plugins: [],
  createdAt: "2026-01-01",
};

function directory(opts: { modules: string[]; templates: string[]; deleted: string[] }) {
  const unused = async (): Promise<never> => {
    throw new Error("not used by find");
  };
  const templates: Parameters<typeof createPackageDirectory>[0]["templates"] = {
    async listTemplates(_p, owner) {
      return opts.templates
        .filter((t) => t.startsWith(`${owner}/`))
        .map((t) => ({ ...template, owner: owner ?? "", name: t.split("/")[1] ?? "" }));
    },
    async getTemplate(_p, name) {
      const full = `${name.owner}/${name.name}`;
      if (opts.deleted.includes(full)) throw new RegistryError(Code.Gone, `template ${full} was deleted`);
      throw new RegistryError(Code.NotFound, `template ${full} does not exist`);
    },
    listVersions: unused,
    resolvePlugins: unused,
  };
  const modules: Parameters<typeof createPackageDirectory>[0]["modules"] = {
    async getModule(_p, name) {
      const full = `${name.owner}/${name.name}`;
      if (!opts.modules.includes(full))
        throw new RegistryError(Code.NotFound, `module ${full} does not exist`);
      return { ...module, owner: name.owner, name: name.name };
    },
    listModules: unused,
  };
  return createPackageDirectory({ modules, templates });
}

describe("package directory", () => {
  it("finds the readings that exist", async () => {
    const d = directory({ modules: ["acme/base"], templates: ["acme/ts"], deleted: [] });
    const found = await d.find({}, [ref("acme/ts", "acme/base"), ref("acme/py", "acme/base")]);
    assert.deepEqual(
      found.map((f) => [f.template.name, f.since]),
      [["ts", "2026-02-01"]],
    );
  });

  it("answers Gone when nothing else reads the name and its template was deleted", async () => {
    const d = directory({ modules: ["acme/base"], templates: [], deleted: ["acme/ts"] });
    await assert.rejects(
      d.find({}, [ref("acme/py", "acme/base"), ref("acme/ts", "acme/base")]),
      (err: unknown) => {
        assert.ok(isRegistryError(err, Code.Gone));
        assert.match(err.message, /template acme\/ts was deleted/);
        return true;
      },
    );
  });

  it("stays 'nothing here' when the module does not exist, or another reading exists", async () => {
    const noModule = directory({ modules: [], templates: [], deleted: ["acme/ts"] });
    assert.deepEqual(await noModule.find({}, [ref("acme/ts", "acme/base")]), []);
    const other = directory({ modules: ["acme/base"], templates: ["acme/py"], deleted: ["acme/ts"] });
    const found = await other.find({}, [ref("acme/ts", "acme/base"), ref("acme/py", "acme/base")]);
    assert.deepEqual(
      found.map((f) => f.template.name),
      ["py"],
    );
  });
});
