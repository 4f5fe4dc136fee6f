// GET /go/{module}/@v/{version}.info: {"Version","Time"} with the time of the commit the version names.
import { goVersion } from "../../core/synthetic-version.js";
import type { GenerationService } from "../../services/generation.js";
import type { GoproxyHandler } from "./handler.js";
import { immutable } from "./handler.js";
import { parseGoVersion } from "./module-path.js";

export function createInfoHandler(generation: GenerationService): GoproxyHandler<"info"> {
  return async (request, reply, { module, version }) => {
    const wanted = parseGoVersion(version, module);
    const { commit } = await generation.resolveVersion(
      request.principal,
      module.template,
      module.module,
      wanted,
    );
    return reply
      .header("cache-control", immutable)
      .type("application/json")
      .send(JSON.stringify({ Version: goVersion(wanted), Time: commit.createdAt }));
  };
}
