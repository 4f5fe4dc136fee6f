// Webhook targets: private ranges refused unless allowed, every resolved address checked, and the connection made to
// the checked address (a name that resolves elsewhere the second time cannot reach a refused one).
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { Code, isRegistryError } from "../../core/errors.js";
import { sendDelivery } from "./send.js";
import { verifyDelivery } from "./signature.js";
import { createTargetPolicy } from "./targets.js";

const refusedBy = (pattern: RegExp) => (err: unknown) =>
  isRegistryError(err, Code.InvalidArgument) && pattern.test(err.message);

describe("webhook targets", () => {
  const policy = createTargetPolicy({
    allowPrivateTargets: false,
    allowedTargets: ["hooks.internal", "10.9.0.0/16"],
    resolve: async (host) => {
      const table: Record<string, { address: string; family: number }[]> = {
        "public.example": [{ address: "93.184.216.34", family: 4 }],
        "mixed.example": [
          { address: "93.184.216.34", family: 4 },
          { address: "192.168.1.5", family: 4 },
        ],
        "hooks.internal": [{ address: "10.0.0.7", family: 4 }],
        "mapped.example": [{ address: "::ffff:127.0.0.1", family: 6 }],
      };
      const found = table[host];
      if (!found) throw new Error(`getaddrinfo ENOTFOUND ${host}`);
      return found;
    },
  });

  it("refuses loopback, private, link-local, multicast and IPv6 private addresses, naming the setting", async () => {
    const cases: [string, RegExp][] = [
      ["http://127.0.0.1/x", /loopback/],
      ["http://[::1]/", /loopback/],
      ["http://10.1.2.3/", /private/],
      ["http://172.20.0.1/", /private/],
      ["http://192.168.0.10/", /private/],
      ["http://169.254.169.254/latest/meta-data", /link-local/],
      ["http://224.0.0.1/", /multicast/],
      ["http://[fd00::1]/", /private/],
      ["http://[fe80::1]/", /link-local/],
      ["http://0.0.0.0/", /unspecified/],
      ["http://mapped.example/", /loopback/],
      ["http://mixed.example/", /private.*192\.168\.1\.5/],
    ];
    for (const [url, why] of cases) {
      await assert.rejects(policy.check(url), refusedBy(why), url);
      await assert.rejects(policy.check(url), refusedBy(/webhooks\.allowPrivateTargets/), url);
    }
  });

  it("accepts public addresses and what the allowlist names", async () => {
    assert.deepEqual((await policy.check("https://public.example/hook")).addresses, [
      { address: "93.184.216.34", family: 4 },
    ]);
    assert.ok(await policy.check("http://hooks.internal:8080/"));
    assert.ok(await policy.check("http://10.9.3.4/"));
    assert.equal(
      createTargetPolicy({ allowPrivateTargets: true, allowedTargets: [] }).refusal("127.0.0.1", "x"),
      undefined,
    );
  });

  it("refuses other schemes, credentials in the URL, and hosts that do not resolve", async () => {
    await assert.rejects(policy.check("ftp://public.example/"), refusedBy(/http:\/\/ or https:\/\//));
    await assert.rejects(policy.check("http://u:p@public.example/"), refusedBy(/user name or password/));
    await assert.rejects(policy.check("not a url"), refusedBy(/not a URL/));
    await assert.rejects(policy.check("http://nowhere.example/"), refusedBy(/cannot be resolved/));
  });

  it("connects to the address it checked: a rebinding name never reaches loopback", async () => {
    let hits = 0;
    const server = createServer((_req, res) => {
      hits++;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      // First answer public, then loopback: the check at creation passes, the connection's own lookup refuses.
      let calls = 0;
      const rebinding = createTargetPolicy({
        allowPrivateTargets: false,
        allowedTargets: [],
        resolve: async () => [{ address: calls++ === 0 ? "93.184.216.34" : "127.0.0.1", family: 4 }],
      });
      await rebinding.check(`http://rebind.example:${port}/`);
      const sent = await sendDelivery(
        {
          url: `http://rebind.example:${port}/`,
          secret: "k",
          body: "{}",
          deliveryId: "d",
          eventId: "e",
          kind: "k",
        },
        { policy: rebinding, timeoutMs: 5000, userAgent: "t" },
      );
      assert.equal(sent.ok, false);
      assert.match(sent.error ?? "", /loopback/);
      assert.equal(hits, 0);
    } finally {
      server.close();
    }
  });

  it("signs each attempt over the timestamp and body, reads at most a few KiB of the answer", async () => {
    const seen: { signature: string; body: string }[] = [];
    const server = createServer(async (req, res) => {
      let body = "";
      for await (const c of req) body += c;
      seen.push({ signature: String(req.headers["protodepot-signature"]), body });
      res.writeHead(500);
      // An endless answer: the sender stops reading it.
      const more = () => res.write(Buffer.alloc(64 * 1024), () => setImmediate(more));
      more();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      const open = createTargetPolicy({ allowPrivateTargets: true, allowedTargets: [] });
      const sent = await sendDelivery(
        { url, secret: "whsec_1", body: '{"a":1}', deliveryId: "d1", eventId: "e1", kind: "commit.pushed" },
        { policy: open, timeoutMs: 10_000, userAgent: "t", now: () => 1_700_000_000_000 },
      );

      assert.deepEqual([sent.ok, sent.status], [false, 500]);
      assert.equal(seen[0]?.body, '{"a":1}');
      assert.match(seen[0]?.signature ?? "", /^t=1700000000,v1=[0-9a-f]{64}$/);
      assert.equal(verifyDelivery("whsec_1", seen[0]?.signature ?? "", '{"a":1}', 1_700_000_010), true);
      assert.equal(verifyDelivery("whsec_2", seen[0]?.signature ?? "", '{"a":1}', 1_700_000_010), false);
      assert.equal(verifyDelivery("whsec_1", seen[0]?.signature ?? "", '{"a":2}', 1_700_000_010), false);
      assert.equal(
        verifyDelivery("whsec_1", seen[0]?.signature ?? "", '{"a":1}', 1_700_001_000),
        false,
        "too old",
      );
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it("signs with the replaced secret too while a rotation's grace lasts", async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(String(req.headers["protodepot-signature"]));
      req.resume().on("end", () => res.writeHead(204).end());
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      const open = createTargetPolicy({ allowPrivateTargets: true, allowedTargets: [] });
      const sent = await sendDelivery(
        {
          url,
          secret: "whsec_3",
          previousSecret: "whsec_1",
          body: "{}",
          deliveryId: "d",
          eventId: "e",
          kind: "k",
        },
        { policy: open, timeoutMs: 10_000, userAgent: "t", now: () => 1_700_000_000_000 },
      );
      assert.equal(sent.ok, true);
      assert.match(seen[0] ?? "", /^t=1700000000,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
      for (const secret of ["whsec_3", "whsec_1"]) {
        assert.equal(verifyDelivery(secret, seen[0] ?? "", "{}", 1_700_000_010), true);
      }
    } finally {
      server.close();
    }
  });
});
