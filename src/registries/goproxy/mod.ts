// GET /go/{module}/@v/{version}.mod: the go.mod, rendered from metadata (no plugin runs), identical to the zip's.

import { parseGoVersion } from "../../ecosystems/go/names.js";
import { renderGoMod } from "../../generate/package/go.js";
import { immutableFor } from "../../http/cache-control.js";
import { keepHot } from "../../http/hot-responses.js";
import type { GenerationService } from "../../services/generation.js";
import type { GoproxyHandler } from "./handler.js";

export function createModHandler(generation: GenerationService): GoproxyHandler<"mod"> {
  return async (request, reply, { module, version }) => {
    keepHot(reply);
    // Go fetches .mod for every version in the build list, so this must stay cheap: metadata only.
    const ctx = await generation.describeVersion(
      request.principal,
      module.template,
      module.module,
      parseGoVersion(version, module),
      "go",
    );
    return reply
      .header("cache-control", immutableFor(request.principal))
      .type("text/plain; charset=utf-8")
      .send(renderGoMod(ctx));
  };
}
