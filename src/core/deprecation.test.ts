import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { deprecationNotice, recordedDeprecation } from "./deprecation.js";

describe("deprecationNotice", () => {
  it("names each deprecated thing once, with its message on one line", () => {
    assert.equal(
      deprecationNotice([
        { kind: "module", owner: "acme", name: "pay", deprecation: "use\nacme/billing  " },
        { kind: "template", owner: "acme", name: "ts" },
        { kind: "plugin", owner: "bufbuild", name: "es", deprecation: "" },
        { kind: "plugin", owner: "bufbuild", name: "es", deprecation: "" },
      ]),
      "module acme/pay is deprecated: use acme/billing; plugin bufbuild/es is deprecated",
    );
  });

  it("is undefined when nothing is deprecated, and never empty otherwise", () => {
    assert.equal(deprecationNotice([{ kind: "module", owner: "acme", name: "pay" }]), undefined);
    assert.equal(deprecationNotice([]), undefined);
    assert.equal(
      deprecationNotice([{ kind: "template", owner: "acme", name: "ts", deprecation: " " }]),
      "template acme/ts is deprecated",
    );
  });
});

describe("recordedDeprecation", () => {
  it("joins what the commit and the template version recorded, and nothing else", () => {
    const commit = { owner: "acme", module: "pay" };
    assert.equal(recordedDeprecation(commit, {}), undefined);
    assert.equal(
      recordedDeprecation(
        { ...commit, deprecation: "gone" },
        { deprecation: "template acme/ts is deprecated" },
      ),
      "module acme/pay is deprecated: gone; template acme/ts is deprecated",
    );
    assert.equal(
      recordedDeprecation(commit, { deprecation: "plugin a/b is deprecated" }),
      "plugin a/b is deprecated",
    );
  });
});
