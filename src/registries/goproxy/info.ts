// GET /go/{module}/@v/{version}.info: {"Version","Time"} with the time of the commit the version names; for a
// query (a label or commit id, as in `go get m@main`), the latest template version over that commit.
import { goVersion } from "../../core/synthetic-version.js";
import { parseGoVersion } from "../../ecosystems/go/names.js";
import { immutableFor } from "../../http/cache-control.js";
import { keepHot } from "../../http/hot-responses.js";
import type { GenerationService } from "../../services/generation.js";
import type { GoproxyHandler } from "./handler.js";
import { revalidate } from "./handler.js";
import { goQuery } from "./module-path.js";

export function createInfoHandler(generation: GenerationService): GoproxyHandler<"info"> {
  return async (request, reply, { module, version }) => {
    keepHot(reply);
    const query = goQuery(version);
    if (query !== undefined) {
      // The GOPROXY protocol lets .info answer a query with the canonical version it resolves to today.
      const found = await generation.latest(request.principal, module.template, module.module, query);
      return reply
        .header("cache-control", revalidate)
        .type("application/json")
        .send(JSON.stringify({ Version: goVersion(found.version), Time: found.commit.createdAt }));
    }
    const wanted = parseGoVersion(version, module);
    const { commit } = await generation.resolveVersion(
      request.principal,
      module.template,
      module.module,
      wanted,
    );
    return reply
      .header("cache-control", immutableFor(request.principal))
      .type("application/json")
      .send(JSON.stringify({ Version: goVersion(wanted), Time: commit.createdAt }));
  };
}
