// GET /go/{module}/@latest: the newest template version over the head of the module's default label.
import { goVersion } from "../../core/synthetic-version.js";
import { principalOf } from "../../http/principal.js";
import type { GoproxyDeps, GoproxyHandler } from "./handler.js";
import { revalidate } from "./handler.js";

export function createLatestHandler({ auth, generation }: GoproxyDeps): GoproxyHandler<"latest"> {
  return async (request, reply, { module }) => {
    await principalOf(auth, request);
    const { commit, version } = await generation.latest(module.template, module.module);
    return reply
      .header("cache-control", revalidate)
      .type("application/json")
      .send(JSON.stringify({ Version: goVersion(version), Time: commit.createdAt }));
  };
}
