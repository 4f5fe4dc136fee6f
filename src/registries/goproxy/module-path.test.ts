// GOPROXY path parsing: case-escaping, module path shape, and which failures are "not here" (404) vs malformed (400).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, isRegistryError } from "../../core/errors.js";
import { escapeGoPath, parseGoproxyPath, parseGoVersion, unescapeGoPath } from "./module-path.js";

const host = "buf.example.com";
const code = (fn: () => unknown): Code | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return isRegistryError(err) ? err.code : undefined;
  }
};

describe("goproxy paths", () => {
  it("escapes and unescapes like golang.org/x/mod/module", () => {
    assert.equal(escapeGoPath("github.com/Azure/SDK"), "github.com/!azure/!s!d!k");
    assert.equal(unescapeGoPath("github.com/!azure/!s!d!k"), "github.com/Azure/SDK");
    assert.equal(unescapeGoPath("github.com/Azure"), undefined);
    assert.equal(unescapeGoPath("a/!!b"), undefined);
    assert.equal(unescapeGoPath("a/b!"), undefined);
  });

  it("splits every endpoint", () => {
    const m = `${host}/acme/go/demo/payments`;
    assert.deepEqual(parseGoproxyPath(`${m}/@v/list`, host), {
      endpoint: "list",
      module: {
        path: m,
        template: { owner: "acme", name: "go" },
        module: { owner: "demo", name: "payments" },
      },
    });
    assert.equal(parseGoproxyPath(`${m}/@latest`, host).endpoint, "latest");
    for (const ext of ["info", "mod", "zip"] as const) {
      const t = parseGoproxyPath(`${m}/@v/v1.2.3.${ext}`, host);
      assert.equal(t.endpoint, ext);
      assert.equal("version" in t ? t.version : "", "v1.2.3");
    }
  });

  it("answers 404 for anything that is not one of our module paths, so go falls through", () => {
    for (const p of [
      `${host}/acme/go/demo/@v/list`,
      `${host}/acme/go/demo/payments/v1/@v/list`,
      `other.example.com/acme/go/demo/payments/@v/list`,
      `${host}/acme/go/!demo/payments/@v/list`,
      `${host}/acme/go/Demo/payments/@v/list`,
      `${host}/acme/go/de_mo/payments/@v/list`,
      `${host}/acme/go/demo/payments/@v/v1.1.1.tgz`,
      `${host}/acme/go/demo/payments`,
    ]) {
      assert.equal(
        code(() => parseGoproxyPath(p, host)),
        Code.NotFound,
        p,
      );
    }
  });

  it("tells malformed versions (400) from well-formed ones that cannot exist (404)", () => {
    const m = parseGoproxyPath(`${host}/acme/go/demo/payments/@v/list`, host).module;
    assert.deepEqual(parseGoVersion("v1.2.30", m), { templateVersion: 2, commitSeq: 30 });
    for (const v of ["v1.x.1", "main", "1.2.3", "v1.02.3", "v1.2"])
      assert.equal(
        code(() => parseGoVersion(v, m)),
        Code.InvalidArgument,
        v,
      );
    for (const v of [
      "v2.0.0",
      "v1.0.1",
      "v1.2.0",
      "v0.0.0-20240101000000-abcdefabcdef",
      "v1.2.3+incompatible",
    ]) {
      assert.equal(
        code(() => parseGoVersion(v, m)),
        Code.NotFound,
        v,
      );
    }
  });
});
