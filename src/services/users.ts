// Users and their tokens, as the management API offers them: who the caller is, creating and listing users
// (admins), and issuing, listing and revoking tokens (token rules: tokens.ts; authentication: auth.ts).
import { Code, RegistryError } from "../core/errors.js";
import { checkName } from "../core/names.js";
import type { TokenRecord, User } from "../core/types.js";
import type { MetadataStores, UserStore } from "../storage/meta/metadata-store.js";
import type { AccessPolicy } from "./access.js";
import type { AuditTrail } from "./audit.js";
import {
  type AuthService,
  hashToken,
  newTokenSecret,
  type Principal,
  requireAdmin,
  requireUser,
} from "./auth.js";
import { parseScopes, requireUnscoped } from "./scopes.js";
import { capTokenExpiry, checkTokenNote, isLive, parseTokenExpiry } from "./tokens.js";

export interface NewTokenRequest {
  /** Whose token: the caller's own when empty; another user's for admins only. */
  user: string;
  note: string;
  /** RFC 3339 time the token stops working; empty for the default lifetime. */
  expireTime: string;
  /** `read`, `write:OWNER`, `write:OWNER/MODULE` (services/scopes.ts); empty: everything the user may. */
  scopes?: readonly string[];
}

export interface UserServiceOptions {
  /** Decides who manages a bot's tokens: its organization's owners. */
  access: Pick<AccessPolicy, "roleOf">;
  /** Each change appends its event in the change's own transaction. */
  audit: Pick<AuditTrail, "appendIn">;
  /** The longest lifetime of a token (config auth.maxTokenLifetimeDays); 0: no limit, tokens may never expire. */
  maxTokenLifetimeDays?: number;
  now?: () => number;
}

export interface UserService {
  whoAmI(principal: Principal): User;
  createUser(principal: Principal, input: { name: string; isAdmin: boolean }): Promise<User>;
  listUsers(principal: Principal): Promise<User[]>;
  /** Issues a token; its secret is returned once and stored only hashed. */
  createToken(
    principal: Principal,
    input: NewTokenRequest,
  ): Promise<{ secret: string; token: TokenRecord; user: User }>;
  /** The live tokens of the caller, or of `user` (admins), and the name of who holds them. */
  listTokens(principal: Principal, user: string): Promise<{ tokens: TokenRecord[]; holder: string }>;
  /** Revokes one of the caller's tokens (admins: anyone's), answering with it and the name of who held it. */
  revokeToken(principal: Principal, tokenId: string): Promise<{ token: TokenRecord; holder: string }>;
}

/** What the user service reads, and the transaction its changes and their audit events are written in. */
export type UserServiceStore = Pick<
  UserStore,
  "listUsers" | "getUserByName" | "getUserById" | "getToken" | "listTokens"
> & {
  transaction<T>(
    fn: (
      tx: Pick<MetadataStores, "createUser" | "createToken" | "revokeToken" | "appendAudit">,
    ) => Promise<T>,
  ): Promise<T>;
};

type Deps = Omit<UserServiceOptions, "now"> & {
  users: UserServiceStore;
  auth: Pick<AuthService, "listTokens">;
  now: () => number;
};

/** Whether the caller manages `user`'s tokens: the user themself (not a bot), admins, its organization's owners. */
async function managesTokensOf(d: Deps, principal: Principal, caller: User, user: User): Promise<boolean> {
  if (caller.isAdmin) return true;
  if (user.botOf) return (await d.access.roleOf(principal, user.botOf)) === "owner";
  return user.id === caller.id;
}

/** Token changes are account changes: a token without a scope, and never a bot's own. */
function requireTokenManager(principal: Principal, op: string): User {
  const caller = requireUser(principal, op);
  requireUnscoped(principal.scopes, op);
  if (caller.botOf) {
    throw new RegistryError(
      Code.PermissionDenied,
      `bot ${caller.name} may not manage tokens: the owners of organization ${caller.botOf} manage its tokens`,
      { op },
    );
  }
  return caller;
}

async function createUser(
  d: Deps,
  ...[principal, input]: Parameters<UserService["createUser"]>
): ReturnType<UserService["createUser"]> {
  requireAdmin(principal, "creating users");
  requireUnscoped(principal.scopes, "creating users");
  const name = checkName("user", input.name);
  return d.users.transaction(async (tx) => {
    const user = await tx.createUser({ name, isAdmin: input.isAdmin });
    await d.audit.appendIn(tx, principal, {
      action: "user.create",
      target: `user ${user.name}`,
      after: { isAdmin: user.isAdmin },
    });
    return user;
  });
}

async function listUsers(
  d: Deps,
  ...[principal]: Parameters<UserService["listUsers"]>
): ReturnType<UserService["listUsers"]> {
  requireAdmin(principal, "listing users");
  return d.users.listUsers();
}

async function createToken(
  d: Deps,
  ...[principal, input]: Parameters<UserService["createToken"]>
): ReturnType<UserService["createToken"]> {
  const caller = requireTokenManager(principal, "creating tokens");
  let user = caller;
  if (input.user && input.user !== caller.name) {
    const found = await d.users.getUserByName(input.user);
    if (found?.botOf && !found.deletedAt && (await managesTokensOf(d, principal, caller, found))) {
      user = found;
    } else {
      requireAdmin(principal, "creating tokens for other users");
      if (!found) throw new RegistryError(Code.NotFound, `user ${input.user} does not exist`);
      if (found.deletedAt) throw new RegistryError(Code.NotFound, `bot ${input.user} was deleted`);
      user = found;
    }
  }
  const note = checkTokenNote(input.note);
  const nowMs = d.now();
  const expiresAt = capTokenExpiry(
    parseTokenExpiry(input.expireTime, nowMs),
    d.maxTokenLifetimeDays ?? 0,
    nowMs,
  );
  const scopes = parseScopes(input.scopes ?? []);
  const secret = newTokenSecret();
  const token = await d.users.transaction(async (tx) => {
    const created = await tx.createToken({
      userId: user.id,
      hash: hashToken(secret),
      note,
      ...(expiresAt ? { expiresAt } : {}),
      ...(scopes.length ? { scopes } : {}),
    });
    await d.audit.appendIn(tx, principal, {
      action: "token.create",
      target: `token ${created.id}`,
      // A person reads their own tokens' events (--owner themself); an organization's owners its bots'.
      owner: user.botOf ?? user.name,
      after: {
        user: user.name,
        note,
        ...(expiresAt ? { expiresAt } : {}),
        ...(scopes.length ? { scopes } : {}),
      },
    });
    return created;
  });
  return { secret, token, user };
}

async function listTokens(
  d: Deps,
  ...[principal, user]: Parameters<UserService["listTokens"]>
): ReturnType<UserService["listTokens"]> {
  const caller = requireUser(principal, "list tokens");
  const holder = user ? await d.users.getUserByName(user) : undefined;
  if (holder?.botOf && (await managesTokensOf(d, principal, caller, holder))) {
    const nowMs = d.now();
    return {
      tokens: (await d.users.listTokens(holder.id)).filter((t) => isLive(t, nowMs)),
      holder: holder.name,
    };
  }
  const tokens = await d.auth.listTokens(principal, user || undefined);
  return { tokens, holder: user || principal.user?.name || "" };
}

async function revokeToken(
  d: Deps,
  ...[principal, tokenId]: Parameters<UserService["revokeToken"]>
): ReturnType<UserService["revokeToken"]> {
  const caller = requireTokenManager(principal, "revoking tokens");
  const found = await d.users.getToken(tokenId);
  const holder = found && (await d.users.getUserById(found.userId));
  // Someone else's token answers as a missing one, unless the caller manages its holder's tokens.
  if (!found || !holder || !(await managesTokensOf(d, principal, caller, holder))) {
    throw new RegistryError(Code.NotFound, `you hold no token ${tokenId}: see 'protodepot token list'`);
  }
  if (found.revokedAt) return { token: found, holder: holder.name };
  const at = new Date(d.now()).toISOString();
  await d.users.transaction(async (tx) => {
    // A revocation that raced another changes nothing, and appends nothing.
    if (!(await tx.revokeToken(found.id, at))) return;
    await d.audit.appendIn(tx, principal, {
      action: "token.revoke",
      target: `token ${found.id}`,
      owner: holder.botOf ?? holder.name,
      after: { user: holder.name },
    });
  });
  return { token: { ...found, revokedAt: at }, holder: holder.name };
}

export function createUserService(
  users: UserServiceStore,
  auth: Pick<AuthService, "listTokens">,
  opts: UserServiceOptions,
): UserService {
  const d: Deps = { ...opts, users, auth, now: opts.now ?? Date.now };
  return {
    whoAmI: (principal) => requireUser(principal, "whoami"),
    createUser: (principal, input) => createUser(d, principal, input),
    listUsers: (principal) => listUsers(d, principal),
    createToken: (principal, input) => createToken(d, principal, input),
    listTokens: (principal, user) => listTokens(d, principal, user),
    revokeToken: (principal, tokenId) => revokeToken(d, principal, tokenId),
  };
}
