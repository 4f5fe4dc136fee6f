import assert from "node:assert/strict";
import { test } from "node:test";
import { Code, RegistryError } from "../core/errors.js";
import type { PluginVersion, Template, TemplateVersion } from "../core/types.js";
import { findPypiBase } from "./pypi-base.js";

const at = "2026-01-01T00:00:00.000Z";
const tpl = (name: string, plugins: [string, string][]): Template => ({
  id: `id-${name}`,
  owner: "protodepot",
  name,
  visibility: "public",
  plugins: plugins.map(([p, parameter]) => ({ owner: "o", name: p, parameter })),
  createdAt: at,
});
const ver = (t: Template, number: number, versions: string[]): TemplateVersion => ({
  templateId: t.id,
  number,
  plugins: t.plugins.map((p, i) => ({ owner: p.owner, name: p.name, version: versions[i] ?? "" })),
  createdAt: at,
});
const plugin = (name: string, registryOptions: Record<string, unknown> = {}): PluginVersion => ({
  pluginId: name,
  owner: "o",
  name,
  version: "v1.0.0",
  source: { kind: "host", command: ["/x"] },
  runtimeLibraries: {},
  registryOptions,
  createdAt: at,
});

const python = tpl("python", [["py", ""]]);
const grpc = tpl("python-grpc", [
  ["py", ""],
  ["grpc", ""],
]);
const deps = (versions: TemplateVersion[], base: Template = python) => ({
  templates: {
    async getTemplate(_p: unknown, name: { owner: string; name: string }) {
      if (name.name !== base.name) throw new RegistryError(Code.NotFound, "missing");
      return base;
    },
  },
  meta: { listTemplateVersions: async () => versions },
});
const grpcPlugin = plugin("grpc", { python: { base: "protodepot/python" } });

test("the base's oldest version pinning the same plugin versions; its plugins are left out", async () => {
  const versions = [ver(python, 1, ["v1"]), ver(python, 2, ["v2"]), ver(python, 3, ["v1"])];
  const base = await findPypiBase(deps(versions), {}, grpc, ver(grpc, 5, ["v1", "v9"]), [
    plugin("py"),
    grpcPlugin,
  ]);
  assert.deepEqual(base, {
    template: { owner: "protodepot", name: "python" },
    templateVersion: 1,
    plugins: [{ owner: "o", name: "py" }],
  });
});

test("no base without a declaration, a matching version, the same parameters, or read access", async () => {
  const v1 = [ver(python, 1, ["v1"])];
  const grpcVersion = ver(grpc, 1, ["v1", "v9"]);
  assert.equal(
    await findPypiBase(deps(v1), {}, grpc, grpcVersion, [plugin("py"), plugin("grpc")]),
    undefined,
  );
  assert.equal(
    await findPypiBase(deps(v1), {}, grpc, ver(grpc, 1, ["v2", "v9"]), [plugin("py"), grpcPlugin]),
    undefined,
  );
  const otherParameter = tpl("python", [["py", "pyi_out"]]);
  assert.equal(
    await findPypiBase(deps(v1, otherParameter), {}, grpc, grpcVersion, [plugin("py"), grpcPlugin]),
    undefined,
  );
  const hidden = tpl("elsewhere", [["py", ""]]);
  assert.equal(
    await findPypiBase(deps(v1, hidden), {}, grpc, grpcVersion, [plugin("py"), grpcPlugin]),
    undefined,
  );
});
