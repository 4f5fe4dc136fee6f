// The last-served day: at most one write per id and day, off the download's path, retried after a failure.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createServedDays, servedWithin } from "./last-served.js";

type Write = { day: string; commitIds: string[]; templateIds: string[] };

function fixture(fail = false) {
  const writes: Write[] = [];
  let failing = fail;
  let now = Date.parse("2026-05-10T23:00:00Z");
  const served = createServedDays({
    meta: {
      recordServed: async (day, s) => {
        if (failing) throw new Error("database is locked");
        writes.push({ day, commitIds: [...s.commitIds], templateIds: [...s.templateIds] });
      },
    },
    flushMs: 3_600_000,
    now: () => now,
    onError: () => {},
  });
  return {
    served,
    writes,
    setNow: (ms: number) => {
      now = ms;
    },
    heal: () => {
      failing = false;
    },
  };
}

describe("served days", () => {
  it("writes each module and template once a day, however often they are downloaded", async () => {
    const { served, writes, setNow } = fixture();
    for (let i = 0; i < 100; i++) served.served({ commitId: "c1", templateId: "t1" });
    served.served({ commitId: "c2", templateId: "t1" });
    assert.deepEqual(writes, []);
    await served.flush();
    assert.deepEqual(writes, [{ day: "2026-05-10", commitIds: ["c1", "c2"], templateIds: ["t1"] }]);
    served.served({ commitId: "c1", templateId: "t1" });
    await served.flush();
    assert.equal(writes.length, 1);
    // The next day writes them again.
    setNow(Date.parse("2026-05-11T00:00:01Z"));
    served.served({ commitId: "c1", templateId: "t1" });
    await served.close();
    assert.deepEqual(writes[1], { day: "2026-05-11", commitIds: ["c1"], templateIds: ["t1"] });
  });

  it("keeps what a failed write held, and writes it at the next flush", async () => {
    const { served, writes, heal } = fixture(true);
    served.served({ commitId: "c1", templateId: "t1" });
    await served.flush();
    assert.deepEqual(writes, []);
    heal();
    await served.close();
    assert.deepEqual(writes, [{ day: "2026-05-10", commitIds: ["c1"], templateIds: ["t1"] }]);
  });

  it("counts a day within the window, and nothing when the rule is off", () => {
    const now = Date.parse("2026-05-10T12:00:00Z");
    assert.equal(servedWithin("2026-05-03", 7, now), true);
    assert.equal(servedWithin("2026-05-02", 7, now), false);
    assert.equal(servedWithin("2026-05-10", 0, now), false);
    assert.equal(servedWithin(undefined, 7, now), false);
  });
});
