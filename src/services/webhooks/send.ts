// One attempt of one delivery: a signed POST to a checked address, under one deadline, reading at most a small
// part of the answer (its body is never needed: the status decides).
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { DeliveryOutcome } from "../../storage/meta/metadata-store.js";
import { signatureHeader, signDelivery } from "./signature.js";
import type { TargetPolicy } from "./targets.js";

/** Bytes of a response read before the connection is dropped. */
export const maxResponseBytes = 4096;

export interface DeliveryRequest {
  url: string;
  secret: string;
  /** The secret a rotation replaced, while its grace period lasts: it signs too. */
  previousSecret?: string;
  body: string;
  deliveryId: string;
  eventId: string;
  kind: string;
}

export interface SendOptions {
  policy: TargetPolicy;
  timeoutMs: number;
  userAgent: string;
  now?: () => number;
}

/** Reads up to the cap, then ends: a huge or endless answer costs nothing more. */
function drain(res: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    let read = 0;
    res.on("data", (chunk: Buffer) => {
      read += chunk.length;
      if (read >= maxResponseBytes) {
        res.destroy();
        resolve();
      }
    });
    res.on("end", resolve);
    res.on("close", resolve);
    res.on("error", () => resolve());
  });
}

function post(
  target: URL,
  headers: Record<string, string>,
  body: string,
  opts: SendOptions,
): Promise<number> {
  const signal = AbortSignal.timeout(opts.timeoutMs);
  const request = target.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise<number>((resolve, reject) => {
    const req = request(
      target,
      { method: "POST", headers, lookup: opts.policy.lookup, signal, agent: false },
      (res) => {
        drain(res).then(() => resolve(res.statusCode ?? 0), reject);
      },
    );
    req.on("error", (err) => {
      reject(signal.aborted ? new Error(`no answer within ${opts.timeoutMs} ms (webhooks.timeoutMs)`) : err);
    });
    req.end(body);
  });
}

const secretsOf = (d: DeliveryRequest): string[] =>
  d.previousSecret === undefined ? [d.secret] : [d.secret, d.previousSecret];

/** Sends once; never throws: the outcome says what happened (retryInMs is the dispatcher's to decide). */
export async function sendDelivery(
  d: DeliveryRequest,
  opts: SendOptions,
): Promise<Omit<DeliveryOutcome, "retryInMs">> {
  const now = opts.now ?? Date.now;
  const started = performance.now();
  const latencyMs = () => performance.now() - started;
  try {
    // Literal addresses never reach `lookup`: they are checked here (host names again, at connection, by it).
    const { url } = await opts.policy.check(d.url);
    const headers = {
      "content-type": "application/json",
      "content-length": String(Buffer.byteLength(d.body)),
      "user-agent": opts.userAgent,
      "protodepot-event": d.kind,
      "protodepot-event-id": d.eventId,
      "protodepot-delivery": d.deliveryId,
      [signatureHeader]: signDelivery(secretsOf(d), d.body, Math.floor(now() / 1000)),
    };
    const status = await post(url, headers, d.body, opts);
    const ok = status >= 200 && status < 300;
    return { ok, status, latencyMs: latencyMs(), ...(ok ? {} : { error: `answered ${status}` }) };
  } catch (err) {
    return { ok: false, error: (err as Error).message, latencyMs: latencyMs() };
  }
}
