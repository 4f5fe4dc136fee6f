import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createInvalidation, type InvalidationBus } from "./invalidation.js";

/** A bus that records what it was asked to publish and lets the test deliver a drop from "elsewhere". */
function recordingBus() {
  const drops: (() => void)[] = [];
  let published = 0;
  const bus: InvalidationBus = {
    publish: async () => {
      published++;
    },
    subscribe: (drop) => {
      drops.push(drop);
    },
  };
  const deliver = () => {
    for (const drop of drops) drop();
  };
  return { bus, published: () => published, deliver };
}

describe("invalidation", () => {
  it("publishes a write on every bus it joined, and drops on a note from any of them", async () => {
    const workers = recordingBus();
    const nodes = recordingBus();
    const inv = createInvalidation(workers.bus);
    inv.join(nodes.bus);
    let dropped = 0;
    inv.onDrop(() => dropped++);

    await inv.invalidate();
    assert.deepEqual([workers.published(), nodes.published(), inv.epoch(), dropped], [1, 1, 1, 1]);
    workers.deliver();
    nodes.deliver();
    assert.deepEqual([inv.epoch(), dropped], [3, 3]);
    assert.deepEqual([workers.published(), nodes.published()], [1, 1], "a note heard is not sent on");
  });
});
