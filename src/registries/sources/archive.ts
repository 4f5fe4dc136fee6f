// GET /{owner}/{module}/archive/{ref}.tar.gz: the files of a commit exactly as pushed.
import type { FastifyReply, FastifyRequest } from "fastify";
import { invalidArgument } from "../../core/errors.js";
import { parseFullName } from "../../core/names.js";
import { immutableFor } from "../../http/cache-control.js";
import { keepHot } from "../../http/hot-responses.js";
import type { SourcesProtocol } from "./protocol.js";

export interface SourcesParams {
  owner: string;
  module: string;
  file: string;
}

export function createArchiveHandler(protocol: SourcesProtocol) {
  return async (request: FastifyRequest<{ Params: SourcesParams }>, reply: FastifyReply) => {
    keepHot(reply);
    const { owner, module, file } = request.params;
    const name = parseFullName("module", `${owner}/${module}`);
    const ref = file.slice(0, -".tar.gz".length);
    // An empty ref would mean "the default label" to resolveRef; the URL names nothing, as in archive/.
    if (ref === "")
      throw invalidArgument("the archive name has no reference: GET …/archive/{label or commit id}.tar.gz");
    const { commit, open } = await protocol.archive(request.principal, name, ref);
    const immutable = ref === commit.id;
    return reply
      .header("content-type", "application/gzip")
      .header("content-disposition", `attachment; filename="${owner}-${module}-${commit.id}.tar.gz"`)
      .header("etag", `"${commit.digest}"`)
      .header("x-protodepot-commit", commit.id)
      .header("x-protodepot-commit-seq", String(commit.seq))
      .header("cache-control", immutable ? immutableFor(request.principal) : "no-cache")
      .send(await open());
  };
}
