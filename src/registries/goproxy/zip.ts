// GET /go/{module}/@v/{version}.zip: the module zip, generated on first request and streamed from the blob store.
import { goVersion } from "../../core/synthetic-version.js";
import { parseGoVersion } from "../../ecosystems/go/names.js";
import { immutableFor } from "../../http/cache-control.js";
import { clientGone } from "../../http/client-gone.js";
import { keepHot } from "../../http/hot-responses.js";
import type { GenerationService } from "../../services/generation.js";
import type { GoproxyHandler } from "./handler.js";

export function createZipHandler(generation: GenerationService): GoproxyHandler<"zip"> {
  return async (request, reply, { module, version }) => {
    keepHot(reply);
    const wanted = parseGoVersion(version, module);
    const { templateVersion, commit } = await generation.resolveVersion(
      request.principal,
      module.template,
      module.module,
      wanted,
    );
    // By commit id and numbered template version: the key of exactly one artifact, whatever labels do meanwhile.
    const result = await generation.generate(request.principal, {
      template: module.template,
      templateVersion: `v${templateVersion.number}`,
      module: module.module,
      ref: commit.id,
      scope: "module",
      flavour: "go",
      signal: clientGone(reply),
    });
    const name = `${module.module.name}-${goVersion(wanted)}.zip`;
    return reply
      .header("cache-control", immutableFor(request.principal))
      .header("etag", `"${result.record.digest}"`)
      .header("content-type", "application/zip")
      .header("content-length", String(result.record.size))
      .header("content-disposition", `attachment; filename="${name}"`)
      .send(await generation.openArtifact(result.record, clientGone(reply)));
  };
}
