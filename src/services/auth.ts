// Tokens and principals: who is calling, and may they write to an owner's things.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { Code, isRegistryError, RegistryError } from "../core/errors.js";
import type { Role, TokenRecord, User } from "../core/types.js";
import type { UserStore } from "../storage/meta/metadata-store.js";
import { checkTokenNote, isLive, openSession } from "./tokens.js";

/** Where a request came from, for the audit log: the server's log carries the same request id. */
export interface ClientInfo {
  /** The client's address, from X-Forwarded-For only when server.trustProxy trusts the sender. */
  address?: string;
  userAgent?: string;
  requestId?: string;
}

/** The caller of a request; `user` is undefined for anonymous calls. */
export interface Principal {
  user?: User;
  /** The token that authenticated the request. */
  tokenId?: string;
  /** The token's scopes (services/scopes.ts); absent: everything the user may. */
  scopes?: readonly string[];
  /** Where the request came from (audit events); absent for work the server does by itself. */
  client?: ClientInfo;
  /** When that token stops working (ISO time); nothing may remember this caller's answers past it. */
  tokenExpiresAt?: string;
  /** The caller's organization roles looked up during this request (see access.ts). */
  roles?: Map<string, Promise<Role | undefined>>;
}

export const anonymous: Principal = Object.freeze({});

const tokenPrefix = "pd_";

export function hashToken(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

export function newTokenSecret(): string {
  return tokenPrefix + randomBytes(24).toString("base64url");
}

/** Reads `Bearer T` or `Basic base64(user:T)`; the Basic user name is not checked, as with BSR and npm. */
export function tokenFromAuthorization(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const space = header.indexOf(" ");
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (scheme === "bearer") return value || undefined;
  if (scheme === "basic") {
    const decoded = Buffer.from(value, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    return colon === -1 ? undefined : decoded.slice(colon + 1) || undefined;
  }
  return undefined;
}

export interface AuthService {
  /**
   * Anonymous without credentials; Unauthenticated when credentials are present but wrong (reported to
   * `onFailure` with `client`).
   */
  authenticate(authorization: string | undefined, client?: ClientInfo): Promise<Principal>;
  issueToken(
    userId: string,
    note: string,
    expiresAt?: string,
    scopes?: readonly string[],
  ): Promise<{ secret: string; token: TokenRecord }>;
  /**
   * Opens a web session: a token with `note`, `expiresAt` and `scopes`, after revoking the user's oldest live sessions beyond
   * `maxWebSessions` (services/tokens.ts), so signing in again and again never piles up tokens.
   */
  openSession(userId: string, note: string, expiresAt: string, scopes?: readonly string[]): Promise<string>;
  /**
   * Closes the web session the caller signed in with: deletes its token (one with `note`, held by the caller), so
   * signing out leaves no revoked row behind. False when the caller's token is not such a session.
   */
  closeSession(principal: Principal, note: string): Promise<boolean>;
  /**
   * The caller's tokens that still authenticate (an admin may name another user), oldest first; revoked and expired
   * ones are left out. Never the secrets.
   */
  listTokens(principal: Principal, userName?: string): Promise<TokenRecord[]>;
  /** Revokes one of the caller's tokens (admins: anyone's); NotFound for tokens the caller does not hold. */
  revokeToken(principal: Principal, tokenId: string): Promise<TokenRecord>;
  /**
   * Ensures user `admin` exists. With a secret (PROTODEPOT_ADMIN_TOKEN), ensures admin holds that token and revokes
   * an earlier configured one, so changing the variable retires the old token. Returns a fresh token on first creation.
   */
  ensureAdmin(secret?: string): Promise<{ created: boolean; secret?: string }>;
}

/** Token notes that mark the admin token configured by PROTODEPOT_ADMIN_TOKEN (adminToken in config). */
export const configuredAdminTokenNote = "PROTODEPOT_ADMIN_TOKEN";
/** last_used_at is written at most this often per token, so reads do not turn into writes. */
const touchIntervalMs = 60_000;

export interface AuthLog {
  warn(fields: object, message: string): void;
}

export interface AuthServiceOptions {
  /** Where a failed last_used_at write is reported (at most once per touchIntervalMs). */
  log?: AuthLog;
  now?: () => number;
  /** Hears of every refused credential (the audit log records them, bounded: services/audit.ts). */
  onFailure?: (client: ClientInfo, reason: string) => void;
}

/** The token and user an Authorization header names, refused (401) unless the token is known, live and unexpired. */
async function liveToken(
  meta: UserStore,
  authorization: string,
  nowMs: number,
): Promise<{ token: TokenRecord; user: User }> {
  const secret = tokenFromAuthorization(authorization);
  if (!secret) {
    throw new RegistryError(
      Code.Unauthenticated,
      "unsupported Authorization header: send 'Bearer TOKEN' or Basic credentials with the token as password",
    );
  }
  const hash = hashToken(secret);
  const found = await meta.findToken(hash);
  // The lookup is by index; the comparison of what was found is constant-time.
  if (!found || !timingSafeEqual(Buffer.from(found.token.hash, "hex"), Buffer.from(hash, "hex"))) {
    throw new RegistryError(Code.Unauthenticated, "invalid token: check the token or create a new one");
  }
  const { token } = found;
  if (found.user.deletedAt) {
    throw new RegistryError(Code.Unauthenticated, `token ${token.id} belongs to a deleted bot`);
  }
  if (token.revokedAt) {
    throw new RegistryError(Code.Unauthenticated, `token ${token.id} was revoked: create a new one`);
  }
  if (token.expiresAt && Date.parse(token.expiresAt) <= nowMs) {
    throw new RegistryError(
      Code.Unauthenticated,
      `token ${token.id} expired at ${token.expiresAt}: create a new one (protodepot token create)`,
    );
  }
  return found;
}

/**
 * The admin holds the configured secret (PROTODEPOT_ADMIN_TOKEN) as a token, and no earlier configured one stays
 * live; a node starting at the same moment may have created it first.
 */
async function holdConfiguredToken(meta: UserStore, admin: User, secret: string): Promise<void> {
  const hash = hashToken(secret);
  const tokens = await meta.listTokens(admin.id);
  const current = tokens.find((t) => t.hash === hash);
  if (!current) {
    await meta
      .createToken({ userId: admin.id, hash, note: configuredAdminTokenNote })
      .catch((err: unknown) =>
        existing(err, async () => (await meta.listTokens(admin.id)).find((t) => t.hash === hash)),
      );
  } else if (current.revokedAt) {
    throw new RegistryError(
      Code.FailedPrecondition,
      "PROTODEPOT_ADMIN_TOKEN holds a revoked token: set a new secret",
    );
  }
  const at = new Date().toISOString();
  for (const t of tokens) {
    if (t.note === configuredAdminTokenNote && t.hash !== hash && !t.revokedAt)
      await meta.revokeToken(t.id, at);
  }
}

/** user `admin` exists (created by whichever node comes first) and holds the configured secret, if any. */
async function ensureAdmin(
  meta: UserStore,
  issueToken: AuthService["issueToken"],
  secret: string | undefined,
): Promise<{ created: boolean; secret?: string }> {
  let admin = await meta.getUserByName("admin");
  const created = !admin;
  // Another node starting at the same moment may create the admin (or its configured token) first.
  admin ??= await meta
    .createUser({ name: "admin", isAdmin: true })
    .catch((err: unknown) => existing(err, () => meta.getUserByName("admin")));
  if (secret) {
    await holdConfiguredToken(meta, admin, secret);
    return { created };
  }
  if (!created) return { created };
  const issued = await issueToken(admin.id, "first start");
  return { created, secret: issued.secret };
}

/** Revokes one of the caller's tokens (any token, for an admin); someone else's answers as a missing one. */
async function revokeToken(meta: UserStore, principal: Principal, tokenId: string): Promise<TokenRecord> {
  const caller = requireUser(principal, "revoke tokens");
  const found = await meta.getToken(tokenId);
  const token = found && (caller.isAdmin || found.userId === caller.id) ? found : undefined;
  if (!token) {
    throw new RegistryError(Code.NotFound, `you hold no token ${tokenId}: see 'protodepot token list'`);
  }
  if (token.revokedAt) return token;
  const at = new Date().toISOString();
  await meta.revokeToken(token.id, at);
  return { ...token, revokedAt: at };
}

/** Whose tokens a caller asks for: their own, or (admins only) a named user's. */
async function tokenHolder(meta: UserStore, caller: User, userName: string | undefined): Promise<User> {
  if (!userName || userName === caller.name) return caller;
  if (!caller.isAdmin) {
    throw new RegistryError(Code.PermissionDenied, `only admins may see the tokens of user ${userName}`);
  }
  const user = await meta.getUserByName(userName);
  if (!user) throw new RegistryError(Code.NotFound, `user ${userName} does not exist`);
  return user;
}

export function createAuthService(meta: UserStore, opts: AuthServiceOptions = {}): AuthService {
  const now = opts.now ?? Date.now;
  // After a failed write (a full disk fails them all) no token is touched for a while: one warning, not one per read.
  let touchPausedUntil = 0;
  /** Records a token's last use, best effort: a read never waits for it, and never fails because of it. */
  const touch = (tokenId: string, nowMs: number) => {
    if (nowMs < touchPausedUntil) return;
    meta.touchToken(tokenId, new Date(nowMs).toISOString()).catch((err: unknown) => {
      touchPausedUntil = now() + touchIntervalMs;
      opts.log?.warn({ err, token: tokenId }, "token last use not recorded");
    });
  };
  const service: AuthService = {
    async authenticate(authorization, client) {
      if (!authorization) return client ? { client } : anonymous;
      const nowMs = now();
      let live: { token: TokenRecord; user: User };
      try {
        live = await liveToken(meta, authorization, nowMs);
      } catch (err) {
        if (client && isRegistryError(err, Code.Unauthenticated)) opts.onFailure?.(client, err.message);
        throw err;
      }
      const { token, user } = live;
      if (!token.lastUsedAt || nowMs - Date.parse(token.lastUsedAt) > touchIntervalMs) touch(token.id, nowMs);
      return {
        user,
        tokenId: token.id,
        ...(token.expiresAt ? { tokenExpiresAt: token.expiresAt } : {}),
        ...(token.scopes ? { scopes: token.scopes } : {}),
        ...(client ? { client } : {}),
        roles: new Map(),
      };
    },
    async issueToken(userId, note, expiresAt, scopes) {
      const secret = newTokenSecret();
      const token = await meta.createToken({
        userId,
        hash: hashToken(secret),
        note: checkTokenNote(note),
        ...(expiresAt ? { expiresAt } : {}),
        ...(scopes?.length ? { scopes } : {}),
      });
      return { secret, token };
    },
    openSession(userId, note, expiresAt, scopes) {
      return openSession(
        {
          tokens: meta,
          // A session does no more than the token that opened it.
          issueToken: (id, n, at) => service.issueToken(id, n, at, scopes),
        },
        userId,
        note,
        expiresAt,
        Date.now(),
      );
    },
    async closeSession(principal, note) {
      if (!principal.user || !principal.tokenId) return false;
      const token = await meta.getToken(principal.tokenId);
      if (!token || token.userId !== principal.user.id || token.note !== note) return false;
      return meta.deleteToken(token.id);
    },
    async listTokens(principal, userName) {
      const caller = requireUser(principal, "list tokens");
      const user = await tokenHolder(meta, caller, userName);
      const nowMs = Date.now();
      return (await meta.listTokens(user.id)).filter((t) => isLive(t, nowMs));
    },
    revokeToken: (principal, tokenId) => revokeToken(meta, principal, tokenId),
    ensureAdmin: (secret) => ensureAdmin(meta, service.issueToken, secret),
  };

  return service;
}

export function requireUser(principal: Principal, op: string): User {
  if (!principal.user) {
    throw new RegistryError(
      Code.Unauthenticated,
      `${op} needs a token: pass --token or run 'protodepot login'`,
      {
        op,
      },
    );
  }
  return principal.user;
}

export function requireAdmin(principal: Principal, op: string): User {
  const user = requireUser(principal, op);
  if (!user.isAdmin) throw new RegistryError(Code.PermissionDenied, `${op} is for admins only`, { op });
  return user;
}

/** After AlreadyExists from a create, what another writer created first; any other failure is rethrown. */
async function existing<T>(err: unknown, find: () => Promise<T | undefined>): Promise<T> {
  const found = isRegistryError(err, Code.AlreadyExists) ? await find() : undefined;
  if (found === undefined) throw err;
  return found;
}
