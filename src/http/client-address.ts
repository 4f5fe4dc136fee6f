// The client address of a plain Node request, decided exactly as Fastify decides `request.ip` under the same
// server.trustProxy (the last address X-Forwarded-For names past the trusted senders), for the answers sent before
// Fastify routes a request (http/hot-responses.ts), which are counted by address like any other.
import type { IncomingMessage } from "node:http";
import proxyAddr from "@fastify/proxy-addr";

export type ClientAddress = (req: IncomingMessage) => string;

/** `trustProxy` as config's server.trustProxy takes it: false, true (every sender), or a comma-separated list. */
export function createClientAddress(trustProxy: boolean | string): ClientAddress {
  if (trustProxy === false) return (req) => req.socket.remoteAddress ?? "";
  const trust =
    trustProxy === true ? () => true : proxyAddr.compile(trustProxy.split(",").map((s) => s.trim()));
  return (req) => {
    const all = proxyAddr.all(req, trust);
    return all[all.length - 1] ?? "";
  };
}
