// The uid pool of the rlimits fallback: which uids it may use, one run per uid across processes, stale locks.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { createUidSlots } from "./uid-slots.js";

const dir = mkdtempSync(join(tmpdir(), "protodepot-uid-slots-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const first = 1_879_300_000 + (process.pid % 10_000) * 16;
// A host's user database: one user inside the range, a subordinate range overlapping its end.
const etc = join(dir, "etc");
mkdirSync(etc);
writeFileSync(
  join(etc, "passwd"),
  `root:x:0:0:root:/root:/bin/sh\nalice:x:${first + 1}:100::/home/alice:/bin/sh\n`,
);
writeFileSync(join(etc, "group"), "root:x:0:\n");
writeFileSync(join(etc, "subuid"), `alice:${first + 6}:65536\n`);
writeFileSync(join(etc, "subgid"), "");

test("skips uids the host's users and subordinate ranges hold", () => {
  const slots = createUidSlots({ first, count: 8 }, { etc, lockDir: join(dir, "locks-a") });
  assert.equal(slots.missing, undefined);
  assert.deepEqual(slots.uids, [first, first + 2, first + 3, first + 4, first + 5]);
  const none = createUidSlots({ first: first + 6, count: 4 }, { etc, lockDir: join(dir, "locks-b") });
  assert.match(none.missing ?? "", /belongs to a user, a group or a subordinate range/);
});

test("a uid is held by one run at a time, across pools sharing the lock directory; a third run waits", async () => {
  const lockDir = join(dir, "locks-c");
  const a = createUidSlots({ first: first + 2, count: 2 }, { etc, lockDir });
  const b = createUidSlots({ first: first + 2, count: 2 }, { etc, lockDir });
  const one = await a.acquire();
  const two = await b.acquire();
  assert.notEqual(one.uid, two.uid, "another server process gets the other uid");
  assert.deepEqual(readdirSync(lockDir).sort(), [String(first + 2), String(first + 3)]);
  const order: string[] = [];
  const third = a.acquire().then((slot) => {
    order.push("third acquired");
    return slot;
  });
  await new Promise((r) => setTimeout(r, 150));
  order.push("first released");
  await one.release();
  const slot = await third;
  assert.deepEqual(order, ["first released", "third acquired"]);
  assert.equal(slot.uid, one.uid);
  await slot.release();
  await two.release();
  assert.deepEqual(readdirSync(lockDir), []);
});

test("the lock of a server that died is taken over", async () => {
  const lockDir = join(dir, "locks-d");
  mkdirSync(lockDir, { recursive: true });
  // No process has this pid (above the kernel's pid_max).
  writeFileSync(join(lockDir, String(first)), "99999999");
  const slots = createUidSlots({ first, count: 1 }, { etc, lockDir });
  const slot = await slots.acquire();
  assert.equal(slot.uid, first);
  await slot.release();
});
