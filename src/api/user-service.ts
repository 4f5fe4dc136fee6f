// UserService: users and tokens (the rules: services/users.ts).
import type { ServiceImpl } from "@connectrpc/connect";
import type { UserService } from "../gen/protodepot/v1/user_pb.js";
import type { UserService as Users } from "../services/users.js";
import { principal } from "./context.js";
import { tokenMessage, userMessage } from "./convert.js";

export function createUserServiceImpl(users: Users): ServiceImpl<typeof UserService> {
  return {
    async whoAmI(_req, ctx) {
      return { user: userMessage(users.whoAmI(await principal(ctx))) };
    },
    async createUser(req, ctx) {
      return { user: userMessage(await users.createUser(await principal(ctx), req)) };
    },
    async listUsers(_req, ctx) {
      return { users: (await users.listUsers(await principal(ctx))).map(userMessage) };
    },
    async createToken(req, ctx) {
      const issued = await users.createToken(await principal(ctx), req);
      return { token: issued.secret, tokenId: issued.token.id, user: issued.user.name };
    },
    async listTokens(req, ctx) {
      const { tokens, holder } = await users.listTokens(await principal(ctx), req.user);
      return { tokens: tokens.map((t) => tokenMessage(t, holder)) };
    },
    async revokeToken(req, ctx) {
      const { token, holder } = await users.revokeToken(await principal(ctx), req.tokenId);
      return { token: tokenMessage(token, holder) };
    },
  };
}
