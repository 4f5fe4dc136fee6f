// GET /go/{module}/@v/{version}.mod: the go.mod, rendered from metadata (no plugin runs), identical to the zip's.

import { parseGoVersion } from "../../ecosystems/go/names.js";
import { immutableFor } from "../../http/cache-control.js";
import { keepHot } from "../../http/hot-responses.js";
import type { GoproxyHandler } from "./handler.js";
import type { GoProtocol } from "./protocol.js";

export function createModHandler(protocol: GoProtocol): GoproxyHandler<"mod"> {
  return async (request, reply, { module, version }) => {
    keepHot(reply);
    const goMod = await protocol.mod(request.principal, module, parseGoVersion(version, module));
    return reply
      .header("cache-control", immutableFor(request.principal))
      .type("text/plain; charset=utf-8")
      .send(goMod);
  };
}
