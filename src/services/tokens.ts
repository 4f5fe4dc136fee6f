// Rules for the tokens users create and the web sessions that sign-ins open: bounded notes and lifetimes, a
// bounded number of live sessions per user, and which tokens a listing shows.
import { Code, RegistryError } from "../core/errors.js";
import type { TokenRecord } from "../core/types.js";
import type { UserStore } from "../storage/meta/metadata-store.js";

/** A note is a reminder of what a token is for, shown in `token list`: a line, not a document. */
export const maxTokenNoteChars = 256;
/** The longest lifetime a token may be given; tokens without an expiry are asked for by giving none. */
export const maxTokenLifetimeDays = 3650;
/** Live web sessions a user keeps: signing in once more closes (deletes) the oldest beyond this. */
export const maxWebSessions = 10;

const dayMs = 24 * 60 * 60 * 1000;

/** The note, unchanged, if it fits: at most maxTokenNoteChars characters, no control characters. */
export function checkTokenNote(note: string): string {
  if (note.length > maxTokenNoteChars) {
    throw new RegistryError(
      Code.InvalidArgument,
      `token note is ${note.length} characters long: keep it to ${maxTokenNoteChars} (what the token is for)`,
    );
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused.
  if (/[\u0000-\u001f\u007f]/.test(note)) {
    throw new RegistryError(
      Code.InvalidArgument,
      "token note contains a control character: write it on one line",
    );
  }
  return note;
}

/**
 * A requested expiry as an ISO instant: an RFC 3339 date-time in the future and at most maxTokenLifetimeDays away
 * (`nowMs` is the caller's clock, so rules are tested without one). Empty text means no expiry.
 */
export function parseTokenExpiry(text: string, nowMs: number): string | undefined {
  if (!text) return undefined;
  const example = new Date(nowMs + 365 * dayMs).toISOString().replace(/\.\d+Z$/, "Z");
  // RFC 3339 only: Date.parse alone takes "2027", "March 7" and the like, in local time.
  const m = /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.exec(text);
  // Date.parse rolls February 30 over into March; a calendar date must exist as written.
  const day = m && new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  const real = day && day.getUTCMonth() === Number(m[2]) - 1 && day.getUTCDate() === Number(m[3]);
  const at = real ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(at)) {
    throw new RegistryError(
      Code.InvalidArgument,
      `invalid expire_time "${text.slice(0, 64)}": use an RFC 3339 instant, e.g. ${example}`,
    );
  }
  if (at <= nowMs) {
    throw new RegistryError(
      Code.InvalidArgument,
      `expire_time ${text} is not in the future: use a later instant, e.g. ${example}`,
    );
  }
  if (at - nowMs > maxTokenLifetimeDays * dayMs) {
    throw new RegistryError(
      Code.InvalidArgument,
      `expire_time ${text} is more than ${maxTokenLifetimeDays / 365} years away: choose an earlier instant, or none for a token that never expires`,
    );
  }
  return new Date(at).toISOString();
}

/**
 * The expiry a new token gets under the server's maximum lifetime (`maxDays`, config auth.maxTokenLifetimeDays;
 * 0: none): without one asked for, the maximum; past it, refused.
 */
export function capTokenExpiry(
  expiresAt: string | undefined,
  maxDays: number,
  nowMs: number,
): string | undefined {
  if (maxDays <= 0) return expiresAt;
  const latest = nowMs + maxDays * dayMs;
  if (expiresAt === undefined) return new Date(latest).toISOString();
  if (Date.parse(expiresAt) > latest) {
    throw new RegistryError(
      Code.InvalidArgument,
      `tokens on this server live at most ${maxDays} days (auth.maxTokenLifetimeDays): choose an expiry before ${new Date(latest).toISOString()}`,
    );
  }
  return expiresAt;
}

/** Whether a token still authenticates at `nowMs`: not revoked, not expired. */
export function isLive(token: TokenRecord, nowMs: number): boolean {
  return !token.revokedAt && (!token.expiresAt || Date.parse(token.expiresAt) > nowMs);
}

/**
 * The live sessions (tokens with `note`) to close before one more is opened, so that at most `max` stay live:
 * the oldest first.
 */
export function sessionsToClose(
  tokens: readonly TokenRecord[],
  note: string,
  nowMs: number,
  max = maxWebSessions,
): TokenRecord[] {
  const live = tokens
    .filter((t) => t.note === note && isLive(t, nowMs))
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  return live.slice(0, Math.max(0, live.length - (max - 1)));
}

/**
 * Opens a web session for a user: a new token, after deleting the oldest live sessions beyond the cap (a session
 * is the server's own token, so a closed one leaves no row behind in `token list`).
 */
export async function openSession(
  deps: {
    tokens: Pick<UserStore, "listTokens" | "deleteToken">;
    issueToken(userId: string, note: string, expiresAt: string): Promise<{ secret: string }>;
  },
  userId: string,
  note: string,
  expiresAt: string,
  nowMs: number,
): Promise<string> {
  for (const old of sessionsToClose(await deps.tokens.listTokens(userId), note, nowMs)) {
    await deps.tokens.deleteToken(old.id);
  }
  return (await deps.issueToken(userId, note, expiresAt)).secret;
}
