// Tokens and principals: who is calling, and may they write to an owner's things.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { Code, RegistryError } from "../core/errors.js";
import type { User } from "../core/types.js";
import type { MetadataStore } from "../storage/meta/metadata-store.js";

/** The caller of a request; `user` is undefined for anonymous calls. */
export interface Principal {
  user?: User;
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
  /** Anonymous without credentials; Unauthenticated when credentials are present but wrong. */
  authenticate(authorization: string | undefined): Promise<Principal>;
  issueToken(userId: string, note: string): Promise<{ secret: string; id: string }>;
  /** Ensures user `admin` exists; with a secret, ensures it holds that token. Returns a fresh token on first creation. */
  ensureAdmin(secret?: string): Promise<{ created: boolean; secret?: string }>;
}

export function createAuthService(meta: MetadataStore): AuthService {
  const service: AuthService = {
    async authenticate(authorization) {
      if (!authorization) return anonymous;
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
      return { user: found.user };
    },
    async issueToken(userId, note) {
      const secret = newTokenSecret();
      const token = await meta.createToken({ userId, hash: hashToken(secret), note });
      return { secret, id: token.id };
    },
    async ensureAdmin(secret) {
      let admin = await meta.getUserByName("admin");
      const created = !admin;
      admin ??= await meta.createUser({ name: "admin", isAdmin: true });
      if (secret) {
        if (!(await meta.findToken(hashToken(secret)))) {
          await meta.createToken({
            userId: admin.id,
            hash: hashToken(secret),
            note: "PROTODEPOT_ADMIN_TOKEN",
          });
        }
        return { created };
      }
      if (!created) return { created };
      const issued = await service.issueToken(admin.id, "first start");
      return { created, secret: issued.secret };
    },
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

/** Writes to an owner's things need a token of that owner, or of an admin. */
export function requireOwner(principal: Principal, owner: string, op: string): User {
  const user = requireUser(principal, op);
  if (!user.isAdmin && user.name !== owner) {
    throw new RegistryError(Code.PermissionDenied, `user ${user.name} may not ${op} of owner ${owner}`, {
      op,
      owner,
    });
  }
  return user;
}
