// The signature of a delivery (docs/webhooks.md, "Verifying a delivery"):
//   Protodepot-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
// The timestamp is signed with the body, so a receiver that refuses old timestamps refuses replays.
import { createHmac, timingSafeEqual } from "node:crypto";

export const signatureHeader = "protodepot-signature";

export function signDelivery(secret: string, body: string, atSeconds: number): string {
  const mac = createHmac("sha256", secret).update(`${atSeconds}.${body}`).digest("hex");
  return `t=${atSeconds},v1=${mac}`;
}

/** What a receiver does: true when `header` signs `body` with `secret` within `toleranceSeconds` of `nowSeconds`. */
export function verifyDelivery(
  secret: string,
  header: string,
  body: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  const parts = new Map(header.split(",").map((p) => p.split("=", 2) as [string, string]));
  const t = Number(parts.get("t"));
  const given = parts.get("v1") ?? "";
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > toleranceSeconds || !/^[0-9a-f]{64}$/.test(given)) {
    return false;
  }
  const expected = createHmac("sha256", secret).update(`${t}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(given, "hex"));
}
