// Web sessions: a token of their own in an httpOnly cookie, opened by a token sign-in (/login) or a provider's
// (/auth/oidc/…), never outliving nor doing more than what opened it.
import type { FastifyReply } from "fastify";
import type { AuditTrail } from "../services/audit.js";
import type { AuthService, Principal } from "../services/auth.js";

export const sessionCookie = "pd_session";
/** A session is a token of its own with this lifetime; signing out revokes it. */
const sessionMs = 12 * 60 * 60 * 1000;
export const sessionNote = "web session";

export interface SessionOptions {
  auth: Pick<AuthService, "openSession">;
  /** Mark the cookie Secure: the server itself serves TLS. */
  secureCookie: boolean;
  /** Where sign-ins and sign-outs are recorded (docs/audit.md). */
  audit?: Pick<AuditTrail, "record">;
}

/** Opens a session for `principal` (a person), records it and sets the cookie; the caller answers. */
export async function openWebSession(
  reply: FastifyReply,
  opts: SessionOptions,
  principal: Principal & { user: NonNullable<Principal["user"]> },
): Promise<void> {
  const tokenEnd = principal.tokenExpiresAt ? Date.parse(principal.tokenExpiresAt) : Number.POSITIVE_INFINITY;
  const expires = new Date(Math.min(Date.now() + sessionMs, tokenEnd));
  const secret = await opts.auth.openSession(
    principal.user.id,
    sessionNote,
    expires.toISOString(),
    principal.scopes,
  );
  await opts.audit?.record(principal, {
    action: "session.open",
    target: `user ${principal.user.name}`,
    owner: principal.user.name,
    after: { expiresAt: expires.toISOString() },
  });
  reply.setCookie(sessionCookie, secret, {
    path: "/",
    httpOnly: true,
    sameSite: "strict",
    secure: opts.secureCookie,
    expires,
  });
}
