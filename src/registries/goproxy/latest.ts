// GET /go/{module}/@latest: the newest template version over the head of the module's default label.
import { goVersion } from "../../core/synthetic-version.js";
import { keepHot } from "../../http/hot-responses.js";
import type { GenerationService } from "../../services/generation.js";
import type { GoproxyHandler } from "./handler.js";
import { revalidate } from "./handler.js";

export function createLatestHandler(generation: GenerationService): GoproxyHandler<"latest"> {
  return async (request, reply, { module }) => {
    // Metadata alone decides it (commits, labels, template versions): every write drops the kept answer.
    keepHot(reply);
    const { commit, version } = await generation.latest(request.principal, module.template, module.module);
    return reply
      .header("cache-control", revalidate)
      .type("application/json")
      .send(JSON.stringify({ Version: goVersion(version), Time: commit.createdAt }));
  };
}
