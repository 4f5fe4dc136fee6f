// GET /v1/{templateOwner}/{templateName}/{templateVersion}/{moduleOwner}/{moduleName}/{reference}{suffix}
import type { FastifyReply, FastifyRequest } from "fastify";
import { invalidArgument } from "../../core/errors.js";
import { isCommitId, parseFullName } from "../../core/names.js";
import { goVersion } from "../../core/synthetic-version.js";
import type { Scope } from "../../core/types.js";
import { immutableFor } from "../../http/cache-control.js";
import { clientGone } from "../../http/client-gone.js";
import { keepHot } from "../../http/hot-responses.js";
import type { ArchiveFormat, ArchiveProtocol } from "./protocol.js";

export interface DownloadParams {
  templateOwner: string;
  templateName: string;
  templateVersion: string;
  moduleOwner: string;
  moduleName: string;
  file: string;
}

// Longest first, so `x.include_imports.tar.gz` is not read as reference `x.include_imports`.
const suffixes: readonly [string, Scope, ArchiveFormat][] = [
  [".include_imports_and_wkt.tar.gz", "imports_wkt", "tar.gz"],
  [".include_imports.tar.gz", "imports", "tar.gz"],
  [".tar.gz", "module", "tar.gz"],
  [".include_imports_and_wkt.zip", "imports_wkt", "zip"],
  [".include_imports.zip", "imports", "zip"],
  [".zip", "module", "zip"],
];

const usage =
  "use {reference}.tar.gz, {reference}.include_imports.tar.gz or {reference}.include_imports_and_wkt.tar.gz (or .zip for each)";

export function parseArchiveFile(file: string): { ref: string; scope: Scope; format: ArchiveFormat } {
  for (const [suffix, scope, format] of suffixes) {
    if (!file.endsWith(suffix) || file.length <= suffix.length) continue;
    const ref = file.slice(0, -suffix.length);
    // `main.include_wkt.tar.gz` is a mistyped suffix, not a label "main.include_wkt".
    const typo = /\.include[^.]*$/.exec(ref);
    if (typo) throw invalidArgument(`unknown archive suffix "${typo[0]}${suffix}" in "${file}": ${usage}`);
    return { ref, scope, format };
  }
  throw invalidArgument(`unknown archive "${file}": ${usage}`);
}

export function createDownloadHandler(protocol: ArchiveProtocol) {
  return async (request: FastifyRequest<{ Params: DownloadParams }>, reply: FastifyReply) => {
    keepHot(reply);
    const p = request.params;
    const { ref, scope, format } = parseArchiveFile(p.file);
    const wanted = {
      template: parseFullName("template", `${p.templateOwner}/${p.templateName}`),
      templateVersion: p.templateVersion,
      module: parseFullName("module", `${p.moduleOwner}/${p.moduleName}`),
      ref,
      scope,
      format,
    };
    const result = await protocol.download(request.principal, wanted, clientGone(reply));
    const version = goVersion(result.version);
    const etag = `"${result.record.digest}"`;
    // Only a commit id and a numbered template version name bytes that can never change.
    const immutable = isCommitId(ref) && /^v\d+$/.test(p.templateVersion);
    reply
      .header("etag", etag)
      .header("x-protodepot-version", version)
      .header("x-protodepot-commit", result.commit.id)
      .header("cache-control", immutable ? immutableFor(request.principal) : "no-cache");
    if (request.headers["if-none-match"] === etag) return reply.code(304).send();
    const scopeSuffix =
      scope === "module" ? "" : scope === "imports" ? ".include_imports" : ".include_imports_and_wkt";
    const name = `${p.templateOwner}-${p.templateName}-${p.moduleOwner}-${p.moduleName}-${version}${scopeSuffix}.${format}`;
    return reply
      .header("content-type", format === "zip" ? "application/zip" : "application/gzip")
      .header("content-length", String(result.record.size))
      .header("content-disposition", `attachment; filename="${name}"`)
      .send(await result.open());
  };
}
