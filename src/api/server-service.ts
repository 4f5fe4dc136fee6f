// ServerService: the facts a client needs to configure itself against this server.
import type { ServiceImpl } from "@connectrpc/connect";
import type { ServerService } from "../gen/protodepot/v1/server_pb.js";
import type { AccessPolicy } from "../services/access.js";
import { principal } from "./context.js";

export function createServerServiceImpl(
  info: { npmScope: string; goHost: string },
  access: Pick<AccessPolicy, "checkCanList">,
): ServiceImpl<typeof ServerService> {
  return {
    async getServerInfo(_req, ctx) {
      // Public facts, but a server without anonymous reads tells them to its users only.
      access.checkCanList(await principal(ctx));
      return { npmScope: info.npmScope, goHost: info.goHost };
    },
  };
}
