// buf.alpha.registry.v1alpha1.AuthnService: `buf registry login` checks the token and learns the netrc login.
import type { ServiceImpl } from "@connectrpc/connect";
import { principal } from "../../api/context.js";
import type { AuthnService } from "../../gen/buf/alpha/registry/v1alpha1/authn_pb.js";
import { requireUser } from "../../services/auth.js";
import { ownerId } from "./convert.js";

export function createAuthnService(): ServiceImpl<typeof AuthnService> {
  return {
    async getCurrentUser(_req, ctx) {
      const user = requireUser(await principal(ctx), "buf registry login");
      return { user: { id: ownerId(user.name), username: user.name } };
    },
  };
}
