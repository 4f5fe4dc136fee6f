// The one access policy: who may read and who may write an owner's modules, plugins and templates. Every service
// asks it; nothing else decides. Hidden things fail exactly as missing ones do, so nobody learns they exist.
import { Code, RegistryError } from "../core/errors.js";
import type { Role, User, Visibility } from "../core/types.js";
import type { OwnerStore } from "../storage/meta/metadata-store.js";
import { type Principal, requireUser } from "./auth.js";
import { outOfScope, scopeAllowsWrite } from "./scopes.js";

/** Anything that belongs to an owner and is public or private. */
export interface Owned {
  owner: string;
  visibility: Visibility;
}

export interface AccessOptions {
  /** False: every read needs a valid token (a fully private instance). */
  anonymousRead: boolean;
}

export interface AccessPolicy {
  /** The caller's role under an owner: admins and a user under their own name are `owner`; members their role. */
  roleOf(principal: Principal, owner: string): Promise<Role | undefined>;
  canRead(principal: Principal, thing: Owned): Promise<boolean>;
  /**
   * Throws `hidden()` — the caller's "does not exist" error for this thing — unless the caller may read it; an
   * anonymous caller on a server without anonymous reads gets Unauthenticated instead.
   */
  checkRead(principal: Principal, thing: Owned, hidden: () => RegistryError): Promise<void>;
  /**
   * The thing a lookup found, if the caller may read it. Missing and hidden fail alike with `missing()`, the "does
   * not exist" error, except that an anonymous caller on a server without anonymous reads gets Unauthenticated
   * for both, so nothing tells the two apart.
   */
  readOwned<T extends Owned>(
    principal: Principal,
    thing: T | undefined,
    missing: () => RegistryError,
  ): Promise<T>;
  /** For lists and searches: Unauthenticated when anonymous reads are off and the caller is anonymous. */
  checkCanList(principal: Principal): void;
  /**
   * Create and change things under `owner` (push, labels, plugins, templates and their versions): its writers,
   * owners and admins. The owner must exist. Call it before looking the thing up: it answers from the owner alone,
   * so a refused caller learns nothing about whether a hidden thing exists (and anyone who passes may read every
   * thing of the owner, so the lookup after it hides nothing). A scoped token (services/scopes.ts) must also cover
   * the owner, or `module` of it when the change is to one module.
   */
  requireWrite(principal: Principal, owner: string, op: string, module?: string): Promise<User>;
  /**
   * Owner decisions under `owner`: visibility, push policies, membership, overriding a policy. Its owners (the
   * user themself for a user's things) and admins. Called before the lookup, like requireWrite; the same scopes.
   */
  requireManage(principal: Principal, owner: string, op: string, module?: string): Promise<User>;
}

const rank: Record<Role, number> = { owner: 3, writer: 2, reader: 1 };

export function includesRole(held: Role | undefined, needed: Role): boolean {
  return held !== undefined && rank[held] >= rank[needed];
}

/** What the policy reads: owners and memberships. */
export type AccessStore = Pick<OwnerStore, "getOwner" | "getMemberRole">;

function unauthenticatedRead(): RegistryError {
  return new RegistryError(
    Code.Unauthenticated,
    "this registry needs a token for every read: pass --token, run 'protodepot login', or configure your client's credentials",
  );
}

/** The same words whatever the thing is and whether it exists: they name only the owner and the role. */
function refusedRole(user: User, kind: "user" | "organization", owner: string, needed: Role, op: string) {
  const what = needed === "owner" ? "an owner" : "a writer";
  return new RegistryError(
    Code.PermissionDenied,
    kind === "user"
      ? `user ${user.name} may not ${op} of ${owner}: only ${owner} and admins may`
      : `user ${user.name} may not ${op} of ${owner}: that needs ${what} of ${owner} (ask an owner of the organization)`,
    { op, owner },
  );
}

export function createAccessPolicy(meta: AccessStore, options: AccessOptions): AccessPolicy {
  async function roleOf(principal: Principal, owner: string): Promise<Role | undefined> {
    const user = principal.user;
    if (!user) return undefined;
    if (user.isAdmin || user.name === owner) return "owner";
    // One lookup per owner per request: the principal lives as long as its request.
    const memo = principal.roles;
    const known = memo?.get(owner);
    if (known) return known;
    const role = meta.getMemberRole(owner, user.id);
    memo?.set(owner, role);
    return role;
  }

  async function requireRole(
    principal: Principal,
    owner: string,
    needed: Role,
    op: string,
    module: string | undefined,
  ): Promise<User> {
    const user = requireUser(principal, op);
    // Decided from the names alone, before anything is looked up: a refusal tells nothing about what exists.
    if (principal.scopes && !scopeAllowsWrite(principal.scopes, owner, module)) {
      throw outOfScope(principal.scopes, owner, op, module);
    }
    const found = await meta.getOwner(owner);
    if (!found) {
      throw new RegistryError(
        Code.NotFound,
        `owner ${owner} does not exist: users are created by an admin, organizations with 'protodepot org create ${owner}'`,
        { op, owner },
      );
    }
    if (!includesRole(await roleOf(principal, owner), needed)) {
      throw refusedRole(user, found.kind, owner, needed, op);
    }
    return user;
  }

  const policy: AccessPolicy = {
    roleOf,
    async canRead(principal, thing) {
      if (!principal.user && !options.anonymousRead) return false;
      if (thing.visibility === "public") return true;
      return includesRole(await roleOf(principal, thing.owner), "reader");
    },
    async checkRead(principal, thing, hidden) {
      if (await policy.canRead(principal, thing)) return;
      if (!principal.user && !options.anonymousRead) throw unauthenticatedRead();
      throw hidden();
    },
    async readOwned(principal, thing, missing) {
      if (!thing) {
        policy.checkCanList(principal);
        throw missing();
      }
      await policy.checkRead(principal, thing, missing);
      return thing;
    },
    checkCanList(principal) {
      if (!principal.user && !options.anonymousRead) throw unauthenticatedRead();
    },
    requireWrite: (principal, owner, op, module) => requireRole(principal, owner, "writer", op, module),
    requireManage: (principal, owner, op, module) => requireRole(principal, owner, "owner", op, module),
  };
  return policy;
}

/** Keeps the things the caller may read, in order. */
export async function readable<T extends Owned>(
  access: AccessPolicy,
  principal: Principal,
  things: readonly T[],
): Promise<T[]> {
  access.checkCanList(principal);
  const keep = await Promise.all(things.map((t) => access.canRead(principal, t)));
  return things.filter((_, i) => keep[i]);
}
