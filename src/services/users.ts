// Users and their tokens, as the management API offers them: who the caller is, creating and listing users
// (admins), and issuing, listing and revoking tokens (token rules: tokens.ts; authentication: auth.ts).
import { Code, RegistryError } from "../core/errors.js";
import { checkName } from "../core/names.js";
import type { TokenRecord, User } from "../core/types.js";
import type { UserStore } from "../storage/meta/metadata-store.js";
import { type AuthService, type Principal, requireAdmin, requireUser } from "./auth.js";
import { checkTokenNote, parseTokenExpiry } from "./tokens.js";

export interface NewTokenRequest {
  /** Whose token: the caller's own when empty; another user's for admins only. */
  user: string;
  note: string;
  /** RFC 3339 time the token stops working; empty for the default lifetime. */
  expireTime: string;
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

export function createUserService(
  users: Pick<UserStore, "createUser" | "listUsers" | "getUserByName" | "getUserById">,
  auth: Pick<AuthService, "issueToken" | "listTokens" | "revokeToken">,
  now: () => number = Date.now,
): UserService {
  return {
    whoAmI: (principal) => requireUser(principal, "whoami"),
    async createUser(principal, input) {
      requireAdmin(principal, "creating users");
      return users.createUser({ name: checkName("user", input.name), isAdmin: input.isAdmin });
    },
    async listUsers(principal) {
      requireAdmin(principal, "listing users");
      return users.listUsers();
    },
    async createToken(principal, input) {
      const caller = requireUser(principal, "creating tokens");
      let user = caller;
      if (input.user && input.user !== caller.name) {
        requireAdmin(principal, "creating tokens for other users");
        const found = await users.getUserByName(input.user);
        if (!found) throw new RegistryError(Code.NotFound, `user ${input.user} does not exist`);
        user = found;
      }
      const note = checkTokenNote(input.note);
      const expiresAt = parseTokenExpiry(input.expireTime, now());
      const issued = await auth.issueToken(user.id, note, expiresAt);
      return { secret: issued.secret, token: issued.token, user };
    },
    async listTokens(principal, user) {
      const tokens = await auth.listTokens(principal, user || undefined);
      return { tokens, holder: user || principal.user?.name || "" };
    },
    async revokeToken(principal, tokenId) {
      const token = await auth.revokeToken(principal, tokenId);
      const holder = await users.getUserById(token.userId);
      return { token, holder: holder?.name ?? "" };
    },
  };
}
