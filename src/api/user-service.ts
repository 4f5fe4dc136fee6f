// UserService: users and tokens.
import type { ServiceImpl } from "@connectrpc/connect";
import { Code, RegistryError } from "../core/errors.js";
import { checkName } from "../core/names.js";
import type { UserService } from "../gen/protodepot/v1/user_pb.js";
import { type AuthService, requireAdmin, requireUser } from "../services/auth.js";
import { checkTokenNote, parseTokenExpiry } from "../services/tokens.js";
import type { MetadataStore } from "../storage/meta/metadata-store.js";
import { principal } from "./context.js";
import { tokenMessage, userMessage } from "./convert.js";

export function createUserServiceImpl(
  meta: MetadataStore,
  auth: AuthService,
): ServiceImpl<typeof UserService> {
  return {
    async whoAmI(_req, ctx) {
      return { user: userMessage(requireUser(await principal(ctx), "whoami")) };
    },

    async createUser(req, ctx) {
      requireAdmin(await principal(ctx), "creating users");
      return {
        user: userMessage(await meta.createUser({ name: checkName("user", req.name), isAdmin: req.isAdmin })),
      };
    },

    async listUsers(_req, ctx) {
      requireAdmin(await principal(ctx), "listing users");
      return { users: (await meta.listUsers()).map(userMessage) };
    },

    async createToken(req, ctx) {
      const caller = requireUser(await principal(ctx), "creating tokens");
      let user = caller;
      if (req.user && req.user !== caller.name) {
        requireAdmin(await principal(ctx), "creating tokens for other users");
        const found = await meta.getUserByName(req.user);
        if (!found) throw new RegistryError(Code.NotFound, `user ${req.user} does not exist`);
        user = found;
      }
      const note = checkTokenNote(req.note);
      const expiresAt = parseTokenExpiry(req.expireTime, Date.now());
      const issued = await auth.issueToken(user.id, note, expiresAt);
      return { token: issued.secret, tokenId: issued.token.id, user: user.name };
    },

    async listTokens(req, ctx) {
      const caller = await principal(ctx);
      const tokens = await auth.listTokens(caller, req.user || undefined);
      const owner = req.user || caller.user?.name || "";
      return { tokens: tokens.map((t) => tokenMessage(t, owner)) };
    },

    async revokeToken(req, ctx) {
      const token = await auth.revokeToken(await principal(ctx), req.tokenId);
      const holder = await meta.getUserById(token.userId);
      return { token: tokenMessage(token, holder?.name ?? "") };
    },
  };
}
