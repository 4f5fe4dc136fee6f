import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, it } from "node:test";
import { signDelivery, verifyDelivery } from "./signature.js";

const body = '{"id":"e1","kind":"commit.pushed"}';
const at = 1_796_657_400;

describe("delivery signatures", () => {
  it("signs with one secret as t=…,v1=…", () => {
    const header = signDelivery(["whsec_new"], body, at);
    const mac = createHmac("sha256", "whsec_new").update(`${at}.${body}`).digest("hex");
    assert.equal(header, `t=${at},v1=${mac}`);
    assert.equal(verifyDelivery("whsec_new", header, body, at), true);
    assert.equal(verifyDelivery("whsec_old", header, body, at), false);
  });

  it("during a rotation's grace carries a v1 per secret, the new first, and either secret verifies", () => {
    const header = signDelivery(["whsec_new", "whsec_old"], body, at);
    const [t, ...v1s] = header.split(",");
    assert.equal(t, `t=${at}`);
    assert.deepEqual(
      v1s,
      ["whsec_new", "whsec_old"].map(
        (s) => `v1=${createHmac("sha256", s).update(`${at}.${body}`).digest("hex")}`,
      ),
    );
    assert.equal(verifyDelivery("whsec_new", header, body, at), true);
    assert.equal(verifyDelivery("whsec_old", header, body, at), true);
    assert.equal(verifyDelivery("whsec_other", header, body, at), false);
    assert.equal(verifyDelivery("whsec_old", header, `${body} `, at), false);
    assert.equal(verifyDelivery("whsec_old", header, body, at + 301), false, "too old");
  });

  it("refuses headers without a time or with malformed signatures", () => {
    const mac = createHmac("sha256", "k").update(`${at}.${body}`).digest("hex");
    assert.equal(verifyDelivery("k", `v1=${mac}`, body, at), false);
    assert.equal(verifyDelivery("k", `t=${at},v1=${mac.slice(2)}`, body, at), false);
    assert.equal(verifyDelivery("k", `t=${at},v1=${mac.toUpperCase()}`, body, at), false);
    assert.equal(verifyDelivery("k", `t=${at},v1=${mac}`, body, at), true);
  });
});
