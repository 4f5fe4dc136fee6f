// Cache-Control for bytes that never change (a commit's sources, an artifact of a numbered template version).
import type { Principal } from "../services/auth.js";

/**
 * `public` lets a shared cache (a CDN, a corporate proxy) keep an answer to an authenticated request and hand it to
 * the next caller of the URL, who may not be allowed to read it. So only an anonymous caller's answer, which is
 * public by definition, says `public`; a caller with a token gets `private`, cached by its own client only.
 */
export function immutableFor(principal: Principal): string {
  return principal.user ? "private, max-age=31536000, immutable" : "public, max-age=31536000, immutable";
}
