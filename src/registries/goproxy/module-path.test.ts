// GOPROXY path parsing: endpoints, module path shape, and which failures are "not here" (404) vs malformed (400).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, isRegistryError } from "../../core/errors.js";
import { parseGoproxyPath } from "./module-path.js";

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
});
