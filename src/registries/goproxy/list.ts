// GET /go/{module}/@v/list: every synthetic version of the module under its template, one per line.
import { goVersion } from "../../core/synthetic-version.js";
import { principalOf } from "../../http/principal.js";
import type { GoproxyDeps, GoproxyHandler } from "./handler.js";
import { revalidate } from "./handler.js";

export function createListHandler({ auth, generation }: GoproxyDeps): GoproxyHandler<"list"> {
  return async (request, reply, { module }) => {
    await principalOf(auth, request);
    const versions = await generation.listVersions(module.template, module.module);
    const lines = versions
      .map((v) => v.version)
      .sort((a, b) => a.templateVersion - b.templateVersion || a.commitSeq - b.commitSeq)
      .map((v) => `${goVersion(v)}\n`);
    return reply.header("cache-control", revalidate).type("text/plain; charset=utf-8").send(lines.join(""));
  };
}
