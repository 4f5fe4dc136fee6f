// GET /pypi/simple/{project}/: a project's wheels, each with its sha256 and its core metadata's hash.
import type { FastifyReply, FastifyRequest } from "fastify";
import { normalizePypiName } from "../../ecosystems/pypi/names.js";
import type { PypiCatalog } from "./catalog.js";
import { negotiate } from "./negotiate.js";
import { renderProject } from "./render.js";
import { sendIndex } from "./root.js";

export interface ProjectParams {
  project: string;
}

/** PEP 503: `/simple/{project}` without the slash, or with a name not normalized, redirects to the canonical URL. */
export function createProjectRedirect() {
  return async (request: FastifyRequest<{ Params: ProjectParams }>, reply: FastifyReply) =>
    reply.redirect(`/pypi/simple/${encodeURIComponent(normalizePypiName(request.params.project))}/`, 301);
}

export function createProjectHandler(catalog: PypiCatalog) {
  const redirect = createProjectRedirect();
  return async (request: FastifyRequest<{ Params: ProjectParams }>, reply: FastifyReply) => {
    const { project } = request.params;
    if (normalizePypiName(project) !== project) return redirect(request, reply);
    const format = negotiate(request.headers.accept);
    const body = renderProject(await catalog.project(request.principal, project), format);
    return sendIndex(request, reply, format.contentType, body);
  };
}
