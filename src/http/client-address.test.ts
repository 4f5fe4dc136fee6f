// The address a kept answer is counted by is the one Fastify gives routed requests, for every server.trustProxy.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import Fastify from "fastify";
import { createClientAddress } from "./client-address.js";

describe("client address", () => {
  const cases: { trustProxy: boolean | string; remote: string; forwarded?: string; expected: string }[] = [
    { trustProxy: false, remote: "10.1.1.1", forwarded: "192.0.2.7", expected: "10.1.1.1" },
    { trustProxy: true, remote: "10.1.1.1", forwarded: "192.0.2.7, 198.51.100.3", expected: "192.0.2.7" },
    { trustProxy: true, remote: "10.1.1.1", expected: "10.1.1.1" },
    // Only the listed proxy is trusted: the hop before it is the client, whatever the header claims further back.
    {
      trustProxy: "10.1.1.1",
      remote: "10.1.1.1",
      forwarded: "192.0.2.7, 198.51.100.3",
      expected: "198.51.100.3",
    },
    { trustProxy: "10.1.1.1", remote: "10.9.9.9", forwarded: "192.0.2.7", expected: "10.9.9.9" },
    {
      trustProxy: "loopback, 10.1.1.0/24",
      remote: "10.1.1.5",
      forwarded: "192.0.2.7",
      expected: "192.0.2.7",
    },
  ];
  for (const c of cases) {
    it(`trustProxy ${JSON.stringify(c.trustProxy)} from ${c.remote} forwarded ${c.forwarded ?? "nothing"}`, async () => {
      const app = Fastify({ trustProxy: c.trustProxy });
      const ours = createClientAddress(c.trustProxy);
      app.get("/", async (request) => ({ fastify: request.ip, ours: ours(request.raw) }));
      const res = await app.inject({
        url: "/",
        remoteAddress: c.remote,
        ...(c.forwarded ? { headers: { "x-forwarded-for": c.forwarded } } : {}),
      });
      assert.deepEqual(res.json(), { fastify: c.expected, ours: c.expected });
      await app.close();
    });
  }
});
