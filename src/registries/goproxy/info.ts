// GET /go/{module}/@v/{version}.info: {"Version","Time"} with the time of the commit the version names.
import { goVersion } from "../../core/synthetic-version.js";
import { principalOf } from "../../http/principal.js";
import type { GoproxyDeps, GoproxyHandler } from "./handler.js";
import { immutable } from "./handler.js";
import { parseGoVersion } from "./module-path.js";

export function createInfoHandler({ auth, generation }: GoproxyDeps): GoproxyHandler<"info"> {
  return async (request, reply, { module, version }) => {
    await principalOf(auth, request);
    const wanted = parseGoVersion(version, module);
    const { commit } = await generation.resolveVersion(module.template, module.module, wanted);
    return reply
      .header("cache-control", immutable)
      .type("application/json")
      .send(JSON.stringify({ Version: goVersion(wanted), Time: commit.createdAt }));
  };
}
