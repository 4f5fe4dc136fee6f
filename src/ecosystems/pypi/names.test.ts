// PyPI naming: PEP 503 project names and every reading of one, versions, wheel file names.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  normalizePypiName,
  parsePypiVersion,
  pypiNameCandidates,
  pypiProjectName,
  wheelFileName,
  wheelFileVersion,
} from "./names.js";

describe("PyPI names and versions", () => {
  it("normalizes as PEP 503 does and joins the four names with -", () => {
    assert.equal(normalizePypiName("Protodepot_Python..Demo-_payments"), "protodepot-python-demo-payments");
    const parts = {
      template: { owner: "protodepot", name: "python" },
      module: { owner: "demo", name: "payments" },
    };
    assert.equal(pypiProjectName(parts), "protodepot-python-demo-payments");
    assert.deepEqual(pypiNameCandidates("protodepot-python-demo-payments"), [parts]);
  });

  it("tries every split of a name with dashes, keeping only valid names", () => {
    const readings = pypiNameCandidates("my-org-py-demo-payments").map(
      (c) => `${c.template.owner}/${c.template.name} ${c.module.owner}/${c.module.name}`,
    );
    assert.deepEqual(readings, [
      "my/org py/demo-payments",
      "my/org py-demo/payments",
      "my/org-py demo/payments",
      "my-org/py demo/payments",
    ]);
    // One-letter pieces are no names: `a` cannot be an owner.
    assert.deepEqual(pypiNameCandidates("a-bb-cc-dd"), []);
    assert.deepEqual(pypiNameCandidates("requests"), []);
    const padded = Array.from({ length: 40 }, () => "ab").join("-");
    assert.equal(pypiNameCandidates(padded, 100).length, 100, "bounded however many readings a name has");
  });

  it("versions are exactly 1.{t}.{seq}; wheel files carry them", () => {
    assert.deepEqual(parsePypiVersion("1.2.7"), { templateVersion: 2, commitSeq: 7 });
    for (const bad of ["v1.2.7", "1.02.7", "1.2", "2.1.1", "1.2.7.post1", "1.0.1"]) {
      assert.equal(parsePypiVersion(bad), undefined, bad);
    }
    const name = wheelFileName("protodepot-python-demo-payments", "1.2.7");
    assert.equal(name, "protodepot_python_demo_payments-1.2.7-py3-none-any.whl");
    assert.equal(wheelFileVersion("protodepot-python-demo-payments", name), "1.2.7");
    assert.equal(
      wheelFileVersion("protodepot-python-demo-payments", "other-1.2.7-py3-none-any.whl"),
      undefined,
    );
    assert.equal(wheelFileVersion("protodepot-python-demo-payments", `${name}.tar.gz`), undefined);
  });
});
