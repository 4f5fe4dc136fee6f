// The signature of a delivery (docs/webhooks.md, "Verifying a delivery"):
//   Protodepot-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>[,v1=<the same, another secret>]
// The timestamp is signed with the body, so a receiver that refuses old timestamps refuses replays. After a
// rotation the secret it replaced signs too, for its grace period: the new secret's v1 first, the old one's last.
import { createHmac, timingSafeEqual } from "node:crypto";

export const signatureHeader = "protodepot-signature";

/** One `v1` per secret, in the order given (the current secret first). */
export function signDelivery(secrets: readonly string[], body: string, atSeconds: number): string {
  const macs = secrets.map((secret) =>
    createHmac("sha256", secret).update(`${atSeconds}.${body}`).digest("hex"),
  );
  return [`t=${atSeconds}`, ...macs.map((mac) => `v1=${mac}`)].join(",");
}

/**
 * What a receiver does: true when any `v1` of `header` signs `body` with `secret`, and `t` is within
 * `toleranceSeconds` of `nowSeconds`.
 */
export function verifyDelivery(
  secret: string,
  header: string,
  body: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  const fields = header.split(",").map((p) => p.split("=", 2));
  const t = Number(fields.find(([k]) => k === "t")?.[1]);
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  const expected = createHmac("sha256", secret).update(`${t}.${body}`).digest();
  return fields.some(
    ([k, v]) =>
      k === "v1" && /^[0-9a-f]{64}$/.test(v ?? "") && timingSafeEqual(expected, Buffer.from(v ?? "", "hex")),
  );
}
