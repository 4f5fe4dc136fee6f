// Quarantine of deleted names: forever for public things by default, a configured time for private ones.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, isRegistryError } from "../../core/errors.js";
import { createNameQuarantine, quarantineEnds, refuseDeletedThing } from "./quarantine.js";

const deleted = (visibility: "public" | "private") => ({
  id: "x1",
  owner: "acme",
  name: "gen",
  visibility,
  deletedAt: "2026-05-01T00:00:00.000Z",
});

describe("name quarantine", () => {
  it("ends after the configured days (fractions too), never for forever", () => {
    const policy = { public: "forever", private: 0.5 } as const;
    assert.equal(quarantineEnds("2026-05-01T00:00:00.000Z", "public", policy), undefined);
    assert.equal(
      quarantineEnds("2026-05-01T00:00:00.000Z", "private", policy)?.toISOString(),
      "2026-05-01T12:00:00.000Z",
    );
  });

  it("refuses a quarantined name, frees an expired one, and leaves live and unknown names alone", async () => {
    let now = Date.parse("2026-05-05T00:00:00Z");
    const released: string[] = [];
    const q = createNameQuarantine({
      meta: {
        releaseName: async (kind, id) => {
          released.push(`${kind} ${id}`);
          return true;
        },
      },
      policy: { public: 10, private: 2 },
      now: () => now,
    });
    await q.reclaim("plugin", undefined);
    const { deletedAt: _, ...live } = deleted("public");
    await q.reclaim("plugin", live);
    await assert.rejects(q.reclaim("plugin", deleted("public")), (e) => {
      assert.ok(isRegistryError(e, Code.Gone));
      assert.match(
        e.message,
        /plugin acme\/gen was deleted; its name stays reserved until 2026-05-11 00:00 UTC/,
      );
      return true;
    });
    await q.reclaim("template", deleted("private"));
    now = Date.parse("2026-05-11T00:00:01Z");
    await q.reclaim("plugin", deleted("public"));
    assert.deepEqual(released, ["template x1", "plugin x1"]);
  });

  it("answers Gone for a deleted thing and passes a live one through", () => {
    const { deletedAt: _, ...live } = deleted("public");
    assert.equal(refuseDeletedThing("plugin", live), live);
    assert.throws(
      () => refuseDeletedThing("template", deleted("private")),
      (e) => isRegistryError(e, Code.Gone) && /template acme\/gen was deleted on 2026-05-01/.test(e.message),
    );
  });
});
