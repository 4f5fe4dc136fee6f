import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code as ConnectCode } from "@connectrpc/connect";
import { Code, RegistryError } from "../core/errors.js";
import { quotaReason } from "../services/quotas.js";
import { goneMarker, limitMarker, toConnectError } from "./errors.js";

describe("toConnectError", () => {
  it("marks quotas and rate limits to stay 429, a rate limit with its Retry-After, and nothing else", () => {
    const quota = toConnectError(
      new RegistryError(Code.ResourceExhausted, "used up", { reason: quotaReason }),
    );
    assert.equal(quota.code, ConnectCode.ResourceExhausted);
    assert.equal(quota.metadata.get(limitMarker), "quota");
    const rate = toConnectError(
      new RegistryError(Code.TooManyRequests, "slow down", { retryAfterSeconds: 30 }),
    );
    assert.equal(rate.code, ConnectCode.ResourceExhausted);
    assert.equal(rate.metadata.get(limitMarker), "rate");
    assert.equal(rate.metadata.get("retry-after"), "30");
    // A request over a size limit is resource_exhausted too, unmarked: guards.ts makes it 413.
    const size = toConnectError(new RegistryError(Code.ResourceExhausted, "too large"));
    assert.equal(size.metadata.get(limitMarker), null);
    assert.equal(size.metadata.get("retry-after"), null);
    assert.equal(toConnectError(new RegistryError(Code.Gone, "deleted")).metadata.get(goneMarker), "1");
  });
});
