// Form tokens against cross-site request forgery. The session cookie is SameSite=Strict already; every form also
// carries a synchronizer token bound to the session, and a POST without the right one is refused.
//
// The token is an HMAC of the session's token id keyed by the session's secret (the cookie's value): only a page
// the server rendered for that session can hold it, it needs no server-side state or configured key (so every
// worker and node computes the same one), and it dies with the session.
import { createHmac, timingSafeEqual } from "node:crypto";
import { Code, RegistryError } from "../core/errors.js";

/** The name of the hidden field every form carries. */
export const csrfField = "csrf";

export function csrfToken(sessionSecret: string, tokenId: string): string {
  return createHmac("sha256", sessionSecret).update(`protodepot web form\0${tokenId}`).digest("base64url");
}

/** Whether `given` (a form field, of any shape) is exactly the expected token; compared in constant time. */
export function isCsrfValid(expected: string | undefined, given: unknown): boolean {
  if (!expected || typeof given !== "string") return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** What a POST is checked against: the session it came with, and its body. */
export interface FormPost {
  /** The session's form token; absent when the request has no live session. */
  csrf: string | undefined;
  body: unknown;
}

/**
 * Refuses a form post that lacks the session's form token: Unauthenticated without a session (it expired, or the
 * post came with no cookie), PermissionDenied with a missing or wrong token.
 */
export function checkFormPost({ csrf, body }: FormPost): void {
  if (!csrf) {
    throw new RegistryError(
      Code.Unauthenticated,
      "this form needs a signed-in session: sign in (again) and send the form from its page",
    );
  }
  const given =
    typeof body === "object" && body !== null ? (body as Record<string, unknown>)[csrfField] : undefined;
  if (!isCsrfValid(csrf, given)) {
    throw new RegistryError(
      Code.PermissionDenied,
      given === undefined
        ? "this form came without its form token, so it may not come from a page of this site: reload the page and send the form again"
        : "this form's token does not belong to your session (it may come from another site, or from before you signed in again): reload the page and send the form again",
    );
  }
}
