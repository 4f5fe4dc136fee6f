import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hashToken, newTokenSecret, tokenFromAuthorization } from "./auth.js";

describe("tokens", () => {
  it("reads Bearer and Basic (token as password) credentials", () => {
    assert.equal(tokenFromAuthorization("Bearer pd_abc"), "pd_abc");
    assert.equal(tokenFromAuthorization(`Basic ${Buffer.from("alice:pd_abc").toString("base64")}`), "pd_abc");
    assert.equal(
      tokenFromAuthorization(`basic ${Buffer.from("x:pd:with:colons").toString("base64")}`),
      "pd:with:colons",
    );
    assert.equal(tokenFromAuthorization("Digest abc"), undefined);
    assert.equal(tokenFromAuthorization(undefined), undefined);
  });

  it("makes distinct secrets and stores only their hash", () => {
    const a = newTokenSecret();
    assert.notEqual(a, newTokenSecret());
    assert.match(a, /^pd_[A-Za-z0-9_-]{32}$/);
    assert.match(hashToken(a), /^[0-9a-f]{64}$/);
    assert.notEqual(hashToken(a), a);
  });
});
