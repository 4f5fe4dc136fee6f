// What the routes of the Cargo registry share: its two roots, their base URL, and cargo's bare token.
import type { FastifyRequest } from "fastify";

/**
 * `public`: `/cargo/index/`, anonymous callers welcome (a token is sent only if the client has one to send;
 * cargo never does there). `token`: `/cargo/token/index/`, where config.json answers 401 until cargo sends its
 * token, then `auth-required`, so cargo sends it on every request: the root for private crates.
 */
export type CargoRoot = "public" | "token";

/** `{origin}/cargo` or `{origin}/cargo/token`: server.publicUrl when set, else the origin the client used. */
export function rootBase(request: FastifyRequest, publicUrl: string | undefined, root: CargoRoot): string {
  const origin = publicUrl ? publicUrl.replace(/\/+$/, "") : `${request.protocol}://${request.host}`;
  return root === "token" ? `${origin}/cargo/token` : `${origin}/cargo`;
}

/**
 * Cargo sends `Authorization: TOKEN`, with no scheme. A header without a space is such a token, read as Bearer;
 * `Bearer T` and `Basic …` (curl, proxies) stay as they are.
 */
export function cargoAuthorization(header: string): string {
  return header.includes(" ") ? header : `Bearer ${header}`;
}
