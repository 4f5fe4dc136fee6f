// GET /go/{module}/@v/list: every synthetic version of the module under its template, one per line.
import { goVersion } from "../../core/synthetic-version.js";
import { keepHot } from "../../http/hot-responses.js";
import type { GenerationService } from "../../services/generation.js";
import type { GoproxyHandler } from "./handler.js";
import { revalidate } from "./handler.js";

export function createListHandler(generation: GenerationService): GoproxyHandler<"list"> {
  return async (request, reply, { module }) => {
    // Metadata alone decides it (commits, labels, template versions): every write drops the kept answer.
    keepHot(reply);
    const versions = await generation.listVersions(request.principal, module.template, module.module);
    const lines = versions
      .map((v) => v.version)
      .sort((a, b) => a.templateVersion - b.templateVersion || a.commitSeq - b.commitSeq)
      .map((v) => `${goVersion(v)}\n`);
    return reply.header("cache-control", revalidate).type("text/plain; charset=utf-8").send(lines.join(""));
  };
}
