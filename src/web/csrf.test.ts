import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, isRegistryError } from "../core/errors.js";
import { checkFormPost, csrfField, csrfToken, isCsrfValid } from "./csrf.js";

const refused = (code: Code) => (err: unknown) => isRegistryError(err, code);

describe("form tokens", () => {
  const secret = "pd_session-secret-of-alice";
  const token = csrfToken(secret, "t1");

  it("binds the token to the session's secret and token id", () => {
    assert.equal(csrfToken(secret, "t1"), token);
    assert.notEqual(csrfToken("pd_another-session", "t1"), token);
    assert.notEqual(csrfToken(secret, "t2"), token);
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(!token.includes(secret), "the secret never shows in a page");
  });

  it("accepts only the exact token, as a single string", () => {
    assert.equal(isCsrfValid(token, token), true);
    assert.equal(isCsrfValid(token, `${token}x`), false);
    assert.equal(isCsrfValid(token, token.slice(1)), false);
    assert.equal(isCsrfValid(token, ""), false);
    assert.equal(isCsrfValid(token, [token]), false);
    assert.equal(isCsrfValid(token, undefined), false);
    assert.equal(isCsrfValid(undefined, token), false);
    assert.equal(isCsrfValid("", ""), false);
  });

  it("lets a form with the session's token through", () => {
    checkFormPost({ csrf: token, body: { [csrfField]: token, note: "ci" } });
  });

  it("refuses a form without the token, with a wrong one, or without a session", () => {
    assert.throws(() => checkFormPost({ csrf: token, body: { note: "ci" } }), refused(Code.PermissionDenied));
    assert.throws(() => checkFormPost({ csrf: token, body: undefined }), refused(Code.PermissionDenied));
    assert.throws(
      () => checkFormPost({ csrf: token, body: { [csrfField]: csrfToken("pd_other", "t1") } }),
      refused(Code.PermissionDenied),
    );
    assert.throws(
      () => checkFormPost({ csrf: token, body: { [csrfField]: [token, token] } }),
      refused(Code.PermissionDenied),
    );
    assert.throws(
      () => checkFormPost({ csrf: undefined, body: { [csrfField]: token } }),
      refused(Code.Unauthenticated),
    );
  });
});
