// ServerService: the facts a client needs to configure itself against this server.
import type { ServiceImpl } from "@connectrpc/connect";
import type { ServerService } from "../gen/protodepot/v1/server_pb.js";
import { principal } from "./context.js";

export function createServerServiceImpl(info: {
  npmScope: string;
  goHost: string;
}): ServiceImpl<typeof ServerService> {
  return {
    async getServerInfo(_req, ctx) {
      // Anonymous callers may ask, but a wrong token is a 401 here as everywhere.
      await principal(ctx);
      return { npmScope: info.npmScope, goHost: info.goHost };
    },
  };
}
