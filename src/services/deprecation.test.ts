// What a package's consumers are told, per template version, from the module, the template and the pinned plugins.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Module, Plugin, Template, TemplateVersion } from "../core/types.js";
import { createPackageDeprecations } from "./deprecation.js";

const mod = (deprecation?: string): Module => ({
  id: "m",
  owner: "acme",
  name: "pay",
  visibility: "public",
  defaultLabel: "main",
  createdAt: "",
  ...(deprecation !== undefined ? { deprecation } : {}),
});
const plugin = (name: string, deprecation?: string): Plugin => ({
  id: name,
  owner: "bufbuild",
  name,
  visibility: "public",
  createdAt: "",
  ...(deprecation !== undefined ? { deprecation } : {}),
});
const template = (deprecation?: string): Template => ({
  id: "t",
  owner: "acme",
  name: "ts",
  visibility: "public",
  plugins: [
    { owner: "bufbuild", name: "es", parameter: "" },
    { owner: "bufbuild", name: "connect", parameter: "" },
  ],
  createdAt: "",
  ...(deprecation !== undefined ? { deprecation } : {}),
});
const version = (number: number, ...names: string[]): TemplateVersion => ({
  templateId: "t",
  number,
  plugins: names.map((name) => ({ owner: "bufbuild", name, version: "v1.0.0" })),
  createdAt: "",
});

function deprecations(m: Module, t: Template, plugins: Plugin[], versions: TemplateVersion[]) {
  return createPackageDeprecations({
    getModule: async () => m,
    getTemplate: async () => t,
    listTemplateVersions: async () => versions,
    getPlugin: async (_owner, name) => plugins.find((p) => p.name === name),
  }).ofPackage({ template: { owner: "acme", name: "ts" }, module: { owner: "acme", name: "pay" } });
}

describe("createPackageDeprecations", () => {
  const versions = [version(1, "es", "connect"), version(2, "es", "connect")];

  it("tells nothing while nothing is deprecated", async () => {
    const got = await deprecations(mod(), template(), [plugin("es"), plugin("connect")], versions);
    assert.equal(got.size, 0);
  });

  it("a deprecated module or template deprecates every template version", async () => {
    const got = await deprecations(
      mod("use acme/billing"),
      template(""),
      [plugin("es"), plugin("connect")],
      versions,
    );
    const both = "module acme/pay is deprecated: use acme/billing; template acme/ts is deprecated";
    assert.deepEqual(
      [...got],
      [
        [1, both],
        [2, both],
      ],
    );
  });

  it("a deprecated plugin deprecates the template versions pinning it only", async () => {
    const t = { ...template(), plugins: [{ owner: "bufbuild", name: "es2", parameter: "" }] };
    const got = await deprecations(
      mod(),
      t,
      [plugin("es"), plugin("es2", "gone")],
      [version(1, "es"), version(2, "es2")],
    );
    assert.deepEqual([...got], [[2, "plugin bufbuild/es2 is deprecated: gone"]]);
  });
});
