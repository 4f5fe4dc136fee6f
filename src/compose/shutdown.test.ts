import assert from "node:assert/strict";
import { test } from "node:test";
import { createShutdown } from "./shutdown.js";

test("closes phase by phase whatever order the parts were built in, each closer once", async () => {
  const shutdown = createShutdown();
  const closed: string[] = [];
  shutdown.add("storage", () => void closed.push("metadata store"));
  shutdown.add("execution", () => void closed.push("sandbox"));
  shutdown.add("storage", async () => void closed.push("blob store"));
  shutdown.add("services", async () => void closed.push("pre-generation"));
  shutdown.add("http", () => void closed.push("listener"));
  await Promise.all([shutdown.run(), shutdown.run()]);
  await shutdown.run();
  assert.deepEqual(closed, ["listener", "pre-generation", "sandbox", "metadata store", "blob store"]);
});

test("goes on past a failing closer and reports the first failure", async () => {
  const shutdown = createShutdown();
  const closed: string[] = [];
  shutdown.add("http", () => {
    throw new Error("listener would not close");
  });
  shutdown.add("services", () => Promise.reject(new Error("second")));
  shutdown.add("storage", () => void closed.push("metadata store"));
  await assert.rejects(shutdown.run(), /listener would not close/);
  assert.deepEqual(closed, ["metadata store"]);
});
