// `deprecated` in the packument: on the versions the listing marks, absent on the others.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Commit } from "../../core/types.js";
import type { ListedVersion, PackageListing } from "./catalog.js";
import { renderPackument } from "./packument.js";

const commit = { id: "c".repeat(32), createdAt: "2024-01-01T00:00:00.000Z" } as Commit;
const version = (v: string, templateVersion: number, deprecated?: string): ListedVersion => ({
  version: v,
  commit,
  record: {
    templateId: "t",
    templateVersion,
    commitId: commit.id,
    scope: "module",
    flavour: "npm",
    blob: "b",
    digest: "sha256:00",
    size: 1,
    extra: {},
    createdAt: "",
  },
  extras: { integrity: "sha512-x", shasum: "00" },
  dependencies: {},
  ...(deprecated !== undefined ? { deprecated } : {}),
});

describe("renderPackument", () => {
  it("puts deprecated on the marked versions only", () => {
    const listing: PackageListing = {
      name: "@protodepot/acme_ts_acme_pay",
      parts: { templateOwner: "acme", templateName: "ts", moduleOwner: "acme", moduleName: "pay" },
      versions: [version("1.1.1", 1, "plugin bufbuild/es is deprecated"), version("1.2.1", 2)],
      distTags: { latest: "1.2.1" },
    };
    const p = renderPackument(listing, "http://127.0.0.1/npm") as {
      versions: Record<string, { deprecated?: string }>;
    };
    assert.equal(p.versions["1.1.1"]?.deprecated, "plugin bufbuild/es is deprecated");
    assert.equal(p.versions["1.2.1"]?.deprecated, undefined);
    assert.equal("deprecated" in (p.versions["1.2.1"] ?? {}), false);
  });
});
