// GET /go/{module}/@latest: the newest template version over the head of the module's default label.
import { keepHot } from "../../http/hot-responses.js";
import type { GoproxyHandler } from "./handler.js";
import { revalidate } from "./handler.js";
import type { GoProtocol } from "./protocol.js";

export function createLatestHandler(protocol: GoProtocol): GoproxyHandler<"latest"> {
  return async (request, reply, { module }) => {
    // Metadata alone decides it (commits, labels, template versions): every write drops the kept answer.
    keepHot(reply);
    const info = await protocol.latest(request.principal, module);
    return reply.header("cache-control", revalidate).type("application/json").send(JSON.stringify(info));
  };
}
