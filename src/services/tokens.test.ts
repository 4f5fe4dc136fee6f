// Token and session rules, with the clock passed in: notes, lifetimes, the session cap, what a listing shows.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, isRegistryError } from "../core/errors.js";
import type { TokenRecord } from "../core/types.js";
import {
  checkTokenNote,
  isLive,
  maxWebSessions,
  openSession,
  parseTokenExpiry,
  sessionsToClose,
} from "./tokens.js";

const now = Date.parse("2026-12-07T00:00:00Z");
const invalid = (message: RegExp) => (err: unknown) => {
  assert.ok(isRegistryError(err, Code.InvalidArgument), String(err));
  assert.match(err.message, message);
  return true;
};
const token = (id: string, createdAt: string, extra: Partial<TokenRecord> = {}): TokenRecord => ({
  id,
  userId: "u",
  hash: id,
  note: "web session",
  createdAt,
  ...extra,
});

describe("token rules", () => {
  it("keeps notes to one line of 256 characters", () => {
    assert.equal(checkTokenNote("x".repeat(256)), "x".repeat(256));
    assert.equal(checkTokenNote(""), "");
    assert.throws(
      () => checkTokenNote("x".repeat(1 << 20)),
      invalid(/is 1048576 characters long: keep it to 256/),
    );
    assert.throws(() => checkTokenNote("ci\nsecond line"), invalid(/control character/));
  });

  it("takes a future RFC 3339 instant at most ten years away, or none", () => {
    assert.equal(parseTokenExpiry("", now), undefined);
    assert.equal(parseTokenExpiry("2027-01-31T00:00:00Z", now), "2027-01-31T00:00:00.000Z");
    assert.equal(parseTokenExpiry("2027-01-31T01:00:00+01:00", now), "2027-01-31T00:00:00.000Z");
    assert.equal(parseTokenExpiry("2036-12-01T00:00:00Z", now), "2036-12-01T00:00:00.000Z");
    assert.throws(() => parseTokenExpiry("+275760-09-13T00:00:00Z", now), invalid(/invalid expire_time/));
    assert.throws(() => parseTokenExpiry("2037-01-01T00:00:00Z", now), invalid(/more than 10 years away/));
    assert.throws(() => parseTokenExpiry("2026-12-06T23:59:59Z", now), invalid(/not in the future/));
    for (const text of ["2027", "March 7, 2027", "2027-02-30T00:00:00Z", "2027-01-31 00:00:00"]) {
      assert.throws(() => parseTokenExpiry(text, now), invalid(/invalid expire_time/), text);
    }
  });

  it("counts as live only tokens neither revoked nor expired", () => {
    assert.equal(isLive(token("a", "2026-01-01T00:00:00Z"), now), true);
    assert.equal(
      isLive(token("a", "2026-01-01T00:00:00Z", { revokedAt: "2026-02-01T00:00:00Z" }), now),
      false,
    );
    assert.equal(
      isLive(token("a", "2026-01-01T00:00:00Z", { expiresAt: "2026-12-07T00:00:00Z" }), now),
      false,
    );
    assert.equal(
      isLive(token("a", "2026-01-01T00:00:00Z", { expiresAt: "2026-12-07T00:00:01Z" }), now),
      true,
    );
  });

  it("makes room for one more session by revoking the oldest live ones beyond the cap", () => {
    const day = (d: number) => `2026-11-${String(d).padStart(2, "0")}T00:00:00Z`;
    const sessions = Array.from({ length: maxWebSessions + 1 }, (_, i) => token(`s${i + 1}`, day(i + 2)));
    const others = [
      token("cli", day(1), { note: "laptop" }),
      token("gone", day(1), { revokedAt: day(3) }),
      token("old", day(1), { expiresAt: day(2) }),
    ];
    // Newest first in the input: the rule sorts by creation.
    const all = [...sessions].reverse().concat(others);
    assert.deepEqual(
      sessionsToClose(all, "web session", now).map((t) => t.id),
      ["s1", "s2"],
    );
    assert.deepEqual(sessionsToClose(sessions.slice(0, maxWebSessions - 1), "web session", now), []);
  });

  it("opens a session after deleting what the cap asks, through the narrow store it is given", async () => {
    const stored = Array.from({ length: maxWebSessions }, (_, i) =>
      token(`s${i}`, `2026-11-${String(i + 10)}T00:00:00Z`),
    );
    const deleted: string[] = [];
    const issued: string[] = [];
    const secret = await openSession(
      {
        tokens: {
          listTokens: async () => stored,
          deleteToken: async (id) => {
            deleted.push(id);
            return true;
          },
        },
        issueToken: async (_user, note, expiresAt) => {
          issued.push(`${note} until ${expiresAt}`);
          return { secret: "pd_new" };
        },
      },
      "u",
      "web session",
      "2026-12-07T12:00:00.000Z",
      now,
    );
    assert.equal(secret, "pd_new");
    assert.deepEqual(deleted, ["s0"]);
    assert.deepEqual(issued, ["web session until 2026-12-07T12:00:00.000Z"]);
  });
});
