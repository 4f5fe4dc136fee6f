// What every web page needs: the services (read with the caller's principal), and where clients reach us.

import type { FastifyReply, FastifyRequest } from "fastify";
import { Code, RegistryError } from "../core/errors.js";
import { type FullName, isValidName } from "../core/names.js";
import type { Principal } from "../services/auth.js";
import type { BotService } from "../services/bots.js";
import type { GenerationOutcomes } from "../services/generation-outcomes.js";
import type { IdentityService } from "../services/identities.js";
import type { ModuleService } from "../services/modules.js";
import type { OrganizationService } from "../services/organizations.js";
import type { PluginService } from "../services/plugins.js";
import type { PregenerateService } from "../services/pregenerate.js";
import type { TemplateService } from "../services/templates.js";
import type { UserService } from "../services/users.js";
import type { WebhookService } from "../services/webhooks.js";
import type { PageContext } from "./layout.js";

export interface WebServices {
  modules: ModuleService;
  plugins: PluginService;
  templates: TemplateService;
  orgs: OrganizationService;
  /** The caller's tokens (the settings pages), and an organization's bots' tokens (its bots page). */
  users: UserService;
  /** An organization's bots (its bots page). */
  bots: Pick<BotService, "create" | "list" | "delete">;
  /** An owner's webhook subscriptions (its webhooks page). */
  webhooks: Pick<WebhookService, "create" | "list" | "delete" | "rotateSecret" | "deliveries" | "redeliver">;
  /** Which templates a module's pushes pre-generate (module settings). */
  pregenerate: Pick<PregenerateService, "list" | "set">;
  /** Which templates' latest generations failed; without it every template counts as working. */
  outcomes?: GenerationOutcomes;
  /** The caller's linked provider accounts (the settings page); without it the section is left out. */
  identities?: IdentityService;
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

/** What a management page shows after a form: the service's refusal, or what changed. */
export interface FormOutcome {
  error?: string;
  notice?: string;
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

/** Sends a rendered page as HTML. */
export type Send = (reply: FastifyReply, body: string) => FastifyReply;

const statuses: Partial<Record<Code, number>> = {
  [Code.NotFound]: 404,
  [Code.Gone]: 410,
  [Code.Unauthenticated]: 401,
  [Code.PermissionDenied]: 403,
  [Code.InvalidArgument]: 400,
  [Code.FailedPrecondition]: 400,
  [Code.AlreadyExists]: 409,
  [Code.ResourceExhausted]: 413,
  [Code.InsufficientStorage]: 507,
  // A sign-in provider that cannot be reached (docs/sso.md).
  [Code.Unavailable]: 503,
};

/** The HTTP status of an error code, for pages and forms alike. */
export function statusOf(code: Code): number {
  return statuses[code] ?? 500;
}
