// What every web page needs: the services (read with the caller's principal), and where clients reach us.
import type { FastifyRequest } from "fastify";
import { Code, RegistryError } from "../core/errors.js";
import { type FullName, isValidName } from "../core/names.js";
import type { Principal } from "../services/auth.js";
import type { GenerationOutcomes } from "../services/generation-outcomes.js";
import type { ModuleService } from "../services/modules.js";
import type { OrganizationService } from "../services/organizations.js";
import type { PluginService } from "../services/plugins.js";
import type { TemplateService } from "../services/templates.js";
import type { PageContext } from "./layout.js";

export interface WebServices {
  modules: ModuleService;
  plugins: PluginService;
  templates: TemplateService;
  orgs: OrganizationService;
  /** Which templates' latest generations failed; without it every template counts as working. */
  outcomes?: GenerationOutcomes;
}

export interface WebOptions {
  goHost: string;
  npmScope: string;
  /** config maven.groupId: Maven lines in "Use this module". */
  mavenGroupId?: string;
  /** config server.publicUrl; without it, the URL the browser used. */
  publicUrl?: string | undefined;
}

export interface WebRequest {
  principal: Principal;
  page: PageContext;
  baseUrl: string;
}

export function baseUrlOf(request: FastifyRequest, publicUrl: string | undefined): string {
  if (publicUrl) return publicUrl.replace(/\/+$/, "");
  return `${request.protocol}://${request.host}`;
}

export const notFound = (message: string) => new RegistryError(Code.NotFound, message);

/** A name in a URL; an invalid one is simply a page that does not exist. */
export function nameFrom(kind: string, owner: string, name: string): FullName {
  if (!isValidName(owner) || !isValidName(name)) throw notFound(`${kind} ${owner}/${name} does not exist`);
  return { owner, name };
}
