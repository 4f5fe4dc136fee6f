// GET /go/{module}/@v/{version}.info: {"Version","Time"} with the time of the commit the version names; for a
// query (a label or commit id, as in `go get m@main`), the latest template version over that commit.

import { parseGoVersion } from "../../ecosystems/go/names.js";
import { immutableFor } from "../../http/cache-control.js";
import { keepHot } from "../../http/hot-responses.js";
import type { GoproxyHandler } from "./handler.js";
import { revalidate } from "./handler.js";
import { goQuery } from "./module-path.js";
import type { GoProtocol } from "./protocol.js";

export function createInfoHandler(protocol: GoProtocol): GoproxyHandler<"info"> {
  return async (request, reply, { module, version }) => {
    keepHot(reply);
    const query = goQuery(version);
    const info = await protocol.info(
      request.principal,
      module,
      query !== undefined ? { query } : { version: parseGoVersion(version, module) },
    );
    // A query names today's version; a version names one commit forever.
    return reply
      .header("cache-control", query !== undefined ? revalidate : immutableFor(request.principal))
      .type("application/json")
      .send(JSON.stringify(info));
  };
}
