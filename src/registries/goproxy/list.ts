// GET /go/{module}/@v/list: every synthetic version of the module under its template, one per line.
import { keepHot } from "../../http/hot-responses.js";
import type { GoproxyHandler } from "./handler.js";
import { revalidate } from "./handler.js";
import type { GoProtocol } from "./protocol.js";

export function createListHandler(protocol: GoProtocol): GoproxyHandler<"list"> {
  return async (request, reply, { module }) => {
    // Metadata alone decides it (commits, labels, template versions): every write drops the kept answer.
    keepHot(reply);
    const versions = await protocol.list(request.principal, module);
    return reply
      .header("cache-control", revalidate)
      .type("text/plain; charset=utf-8")
      .send(versions.map((v) => `${v}\n`).join(""));
  };
}
