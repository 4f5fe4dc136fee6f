// The management forms: the caller's tokens, an organization's members and bots, an owner's webhooks, a module's
// settings, a template's next version. Each form calls the same service method as the management API, with the caller's principal; the
// web plugin has checked its form token before any of these runs (csrf.ts). A refusal is shown on the form.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { Code, isRegistryError, RegistryError } from "../core/errors.js";
import { parseBreakingCategory, parseLintCategories, parsePolicyAction } from "../core/push-policy.js";
import type { Visibility } from "../core/types.js";
import { clientOf } from "../http/principal.js";
import type { ModuleUpdate } from "../services/modules/settings.js";
import type { PushPolicyChange } from "../services/modules.js";
import {
  type FormOutcome,
  nameFrom,
  type Send,
  statusOf,
  type WebRequest,
  type WebServices,
} from "./context.js";
import { seg } from "./html.js";
import { type FormBody, field, fields } from "./pages/form.js";
import { moduleSettingsPage } from "./pages/module-settings.js";
import { botsPage } from "./pages/org-bots.js";
import { membersPage } from "./pages/org-members.js";
import { type NewSecret, webhooksPage } from "./pages/owner-webhooks.js";
import { unlinkPath } from "./pages/settings-identities.js";
import { tokensPage } from "./pages/settings-tokens.js";
import { templatePage } from "./pages/template.js";

export interface ManageDeps {
  view: (request: FastifyRequest) => WebRequest;
  send: Send;
}

type Params<K extends string> = { Params: Record<K, string>; Body: FormBody };

/**
 * Runs a form's change as the caller (with where the request came from, for the audit log) and redirects to
 * `back` with a 303, or shows the page again with the service's refusal. A page the caller may not see still
 * answers as missing: rendering it again throws, and the error page takes over.
 */
async function submit(
  request: FastifyRequest,
  reply: FastifyReply,
  d: ManageDeps,
  change: (req: WebRequest) => Promise<string>,
  page: (req: WebRequest, result: FormOutcome) => Promise<string>,
): Promise<FastifyReply> {
  const req = d.view(request);
  const caller = { ...req, principal: { ...req.principal, client: clientOf(request) } };
  try {
    return reply.redirect(await change(caller), 303);
  } catch (err) {
    if (!isRegistryError(err) || statusOf(err.code) >= 500) throw err;
    const body = await page(req, { error: err.message });
    return d.send(reply.status(statusOf(err.code)), body);
  }
}

/** A date from `<input type="date">` as the last second of that day, UTC; anything else as typed. */
function endOfDay(text: string): string {
  return /^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T23:59:59Z` : text;
}

function visibilityOf(text: string): Visibility | undefined {
  if (text === "") return undefined;
  if (text === "public" || text === "private") return text;
  throw new RegistryError(Code.InvalidArgument, `invalid visibility "${text}": choose public or private`);
}

export function manageRoutes(scope: FastifyInstance, web: WebServices, d: ManageDeps): void {
  tokenRoutes(scope, web, d);
  memberRoutes(scope, web, d);
  botRoutes(scope, web, d);
  webhookRoutes(scope, web, d);
  moduleRoutes(scope, web, d);
  scope.post<Params<"owner" | "name">>("/:owner/templates/:name/versions", async (request, reply) => {
    const { owner, name } = request.params;
    const body = request.body;
    return submit(
      request,
      reply,
      d,
      async (req) => {
        const template = await web.templates.getTemplate(req.principal, nameFrom("template", owner, name));
        const pins = template.plugins.map((p, i) => ({
          owner: p.owner,
          name: p.name,
          version: field(body, `pin${i}`),
        }));
        await web.templates.createTemplateVersion(req.principal, `${owner}/${name}`, pins);
        return `/${seg(owner)}/templates/${seg(name)}`;
      },
      (req, result) => templatePage(web, req, owner, name, result),
    );
  });
}

function tokenRoutes(scope: FastifyInstance, web: WebServices, d: ManageDeps): void {
  const page = "/-/settings/tokens";
  scope.get(page, async (request, reply) => d.send(reply, await tokensPage(web, d.view(request))));
  // Not a redirect: the new secret is shown on this answer alone (the page is never cached).
  scope.post<{ Body: FormBody }>(page, async (request, reply) => {
    const req = d.view(request);
    const body = request.body;
    try {
      const issued = await web.users.createToken(
        { ...req.principal, client: clientOf(request) },
        {
          user: "",
          note: field(body, "note"),
          expireTime: endOfDay(field(body, "expires")),
          scopes: fields(body, "scope"),
        },
      );
      const created = { id: issued.token.id, secret: issued.secret };
      return d.send(reply, await tokensPage(web, req, { created }));
    } catch (err) {
      if (!isRegistryError(err) || statusOf(err.code) >= 500) throw err;
      return d.send(reply.status(statusOf(err.code)), await tokensPage(web, req, { error: err.message }));
    }
  });
  scope.post<{ Body: FormBody }>(unlinkPath, async (request, reply) =>
    submit(
      request,
      reply,
      d,
      async (req) => {
        if (!web.identities) throw new RegistryError(Code.NotFound, "this server links no sign-in accounts");
        await web.identities.unlink(req.principal, field(request.body, "issuer"));
        return `${page}#identities`;
      },
      (req, result) => tokensPage(web, req, result),
    ),
  );
  scope.post<Params<"id">>(`${page}/:id/revoke`, async (request, reply) =>
    submit(
      request,
      reply,
      d,
      async (req) => {
        await web.users.revokeToken(req.principal, request.params.id);
        // Revoking the session's own token signs out: the next page is anonymous.
        return page;
      },
      (req, result) => tokensPage(web, req, result),
    ),
  );
}

function memberRoutes(scope: FastifyInstance, web: WebServices, d: ManageDeps): void {
  scope.get<Params<"owner">>("/:owner/-/members", async (request, reply) =>
    d.send(reply, await membersPage(web, d.view(request), request.params.owner)),
  );
  const back = (org: string) => `/${seg(org)}/-/members`;
  scope.post<Params<"owner">>("/:owner/-/members", async (request, reply) => {
    const org = request.params.owner;
    const body = request.body;
    return submit(
      request,
      reply,
      d,
      async (req) => {
        const role = field(body, "role");
        if (role !== "owner" && role !== "writer" && role !== "reader") {
          throw new RegistryError(
            Code.InvalidArgument,
            `invalid role "${role}": choose owner, writer or reader`,
          );
        }
        await web.orgs.setMember(req.principal, org, field(body, "user"), role);
        return back(org);
      },
      (req, result) => membersPage(web, req, org, result),
    );
  });
  scope.post<Params<"owner">>("/:owner/-/members/remove", async (request, reply) => {
    const org = request.params.owner;
    return submit(
      request,
      reply,
      d,
      async (req) => {
        await web.orgs.removeMember(req.principal, org, field(request.body, "user"));
        return back(org);
      },
      (req, result) => membersPage(web, req, org, result),
    );
  });
}

function botRoutes(scope: FastifyInstance, web: WebServices, d: ManageDeps): void {
  const page = "/:owner/-/bots";
  const back = (org: string) => `/${seg(org)}/-/bots`;
  scope.get<Params<"owner">>(page, async (request, reply) =>
    d.send(reply, await botsPage(web, d.view(request), request.params.owner)),
  );
  scope.post<Params<"owner">>(page, async (request, reply) => {
    const org = request.params.owner;
    return submit(
      request,
      reply,
      d,
      async (req) => {
        const role = field(request.body, "role");
        if (role !== "writer" && role !== "reader") {
          throw new RegistryError(Code.InvalidArgument, `invalid role "${role}": choose writer or reader`);
        }
        await web.bots.create(req.principal, org, field(request.body, "bot"), role);
        return back(org);
      },
      (req, result) => botsPage(web, req, org, result),
    );
  });
  // Not a redirect: the new secret is shown on this answer alone.
  scope.post<Params<"owner" | "bot">>(`${page}/:bot/tokens`, async (request, reply) => {
    const { owner: org, bot } = request.params;
    const req = d.view(request);
    const body = request.body;
    try {
      await requireBotOf(web, req, org, bot);
      const issued = await web.users.createToken(
        { ...req.principal, client: clientOf(request) },
        {
          user: bot,
          note: field(body, "note"),
          expireTime: endOfDay(field(body, "expires")),
          scopes: fields(body, "scope"),
        },
      );
      const created = { id: issued.token.id, secret: issued.secret, bot };
      return d.send(reply, await botsPage(web, req, org, { created }));
    } catch (err) {
      if (!isRegistryError(err) || statusOf(err.code) >= 500) throw err;
      return d.send(reply.status(statusOf(err.code)), await botsPage(web, req, org, { error: err.message }));
    }
  });
  scope.post<Params<"owner" | "bot" | "id">>(`${page}/:bot/tokens/:id/revoke`, async (request, reply) => {
    const { owner: org, bot, id } = request.params;
    return submit(
      request,
      reply,
      d,
      async (req) => {
        await requireBotOf(web, req, org, bot);
        // Only a token of this bot: the URL names it.
        const { tokens } = await web.users.listTokens(req.principal, bot);
        if (!tokens.some((t) => t.id === id)) {
          throw new RegistryError(Code.NotFound, `bot ${bot} holds no token ${id}`);
        }
        await web.users.revokeToken(req.principal, id);
        return back(org);
      },
      (req, result) => botsPage(web, req, org, result),
    );
  });
  scope.post<Params<"owner" | "bot">>(`${page}/:bot/delete`, async (request, reply) => {
    const { owner: org, bot } = request.params;
    return submit(
      request,
      reply,
      d,
      async (req) => {
        await web.bots.delete(req.principal, org, bot);
        return back(org);
      },
      (req, result) => botsPage(web, req, org, result),
    );
  });
}

function webhookRoutes(scope: FastifyInstance, web: WebServices, d: ManageDeps): void {
  const page = "/:owner/-/webhooks";
  const back = (owner: string) => `/${seg(owner)}/-/webhooks`;
  scope.get<Params<"owner">>(page, async (request, reply) =>
    d.send(reply, await webhooksPage(web, d.view(request), request.params.owner)),
  );
  /** A change that answers a secret: shown on this answer, not behind a redirect. */
  const withSecret = (
    path: string,
    make: (
      req: WebRequest,
      owner: string,
      request: FastifyRequest<Params<"owner" | "id">>,
    ) => Promise<NewSecret>,
  ) =>
    scope.post<Params<"owner" | "id">>(path, async (request, reply) => {
      const owner = request.params.owner;
      const req = d.view(request);
      try {
        const secret = await make(
          { ...req, principal: { ...req.principal, client: clientOf(request) } },
          owner,
          request,
        );
        return d.send(reply, await webhooksPage(web, req, owner, { secret }));
      } catch (err) {
        if (!isRegistryError(err) || statusOf(err.code) >= 500) throw err;
        return d.send(
          reply.status(statusOf(err.code)),
          await webhooksPage(web, req, owner, { error: err.message }),
        );
      }
    });
  withSecret(page, async (req, owner, request) => {
    const created = await web.webhooks.create(req.principal, {
      owner,
      url: field(request.body, "url"),
      events: fields(request.body, "event"),
    });
    return { webhook: created.webhook.id, secret: created.secret, rotated: false };
  });
  withSecret(`${page}/:id/rotate`, async (req, owner, request) => {
    const hook = await ownedHook(web, req, owner, request.params.id);
    const rotated = await web.webhooks.rotateSecret(req.principal, hook);
    return { webhook: rotated.webhook.id, secret: rotated.secret, rotated: true };
  });
  scope.post<Params<"owner" | "id">>(`${page}/:id/delete`, async (request, reply) => {
    const { owner, id } = request.params;
    return submit(
      request,
      reply,
      d,
      async (req) => {
        await web.webhooks.delete(req.principal, await ownedHook(web, req, owner, id));
        return back(owner);
      },
      (req, result) => webhooksPage(web, req, owner, result),
    );
  });
  scope.post<Params<"owner" | "hook" | "id">>(
    `${page}/:hook/deliveries/:id/redeliver`,
    async (request, reply) => {
      const { owner, hook, id } = request.params;
      return submit(
        request,
        reply,
        d,
        async (req) => {
          // Only a delivery of this owner's subscription, among the latest the page can show.
          await ownedHook(web, req, owner, hook);
          const latest = await web.webhooks.deliveries(req.principal, hook, 100);
          if (!latest.some((x) => x.id === id)) {
            throw new RegistryError(Code.NotFound, `webhook ${hook} has no recent delivery ${id}`);
          }
          await web.webhooks.redeliver(req.principal, id);
          return back(owner);
        },
        (req, result) => webhooksPage(web, req, owner, result),
      );
    },
  );
}

/** The page names one of the owner's subscriptions: one of another owner's is missing here. */
async function ownedHook(web: WebServices, req: WebRequest, owner: string, id: string): Promise<string> {
  const hooks = await web.webhooks.list(req.principal, owner);
  if (!hooks.some((h) => h.id === id))
    throw new RegistryError(Code.NotFound, `${owner} has no webhook ${id}`);
  return id;
}

/** The page names a bot of the organization: listing them is an owner's right, and a bot elsewhere is missing. */
async function requireBotOf(web: WebServices, req: WebRequest, org: string, bot: string): Promise<void> {
  const bots = await web.bots.list(req.principal, org);
  if (!bots.some((b) => b.user.name === bot)) {
    throw new RegistryError(Code.NotFound, `organization ${org} has no bot ${bot}`);
  }
}

function moduleRoutes(scope: FastifyInstance, web: WebServices, d: ManageDeps): void {
  const path = "/:owner/:module/-/settings";
  const back = (owner: string, name: string, anchor: string) =>
    `/${seg(owner)}/${seg(name)}/-/settings#${anchor}`;
  scope.get<Params<"owner" | "module">>(path, async (request, reply) => {
    const { owner, module } = request.params;
    return d.send(reply, await moduleSettingsPage(web, d.view(request), owner, module));
  });
  const form = (
    suffix: string,
    anchor: string,
    change: (req: WebRequest, owner: string, name: string, body: FormBody) => Promise<void>,
  ) =>
    scope.post<Params<"owner" | "module">>(`${path}${suffix}`, async (request, reply) => {
      const { owner, module } = request.params;
      return submit(
        request,
        reply,
        d,
        async (req) => {
          await change(req, owner, module, request.body);
          return back(owner, module, anchor);
        },
        (req, result) => moduleSettingsPage(web, req, owner, module, result),
      );
    });
  form("", "general", async (req, owner, name, body) => {
    const full = nameFrom("module", owner, name);
    const mod = await web.modules.getModule(req.principal, full);
    await web.modules.updateModule(req.principal, full, moduleUpdate(mod, body));
  });
  form("/push-policy", "push-policy", async (req, owner, name, body) => {
    await web.modules.setPushPolicy(req.principal, nameFrom("module", owner, name), field(body, "label"), {
      breaking: parsePolicyAction(field(body, "breaking"), "breaking"),
      breakingCategory: parseBreakingCategory(field(body, "breakingCategory")),
      lint: parsePolicyAction(field(body, "lint"), "lint"),
      lintCategories: parseLintCategories(fields(body, "lintCategories")),
    } satisfies PushPolicyChange);
  });
  form("/pregenerate", "pregenerate", async (req, owner, name, body) => {
    const templates = field(body, "templates")
      .split(/[\s,]+/)
      .filter((t) => t !== "");
    await web.pregenerate.set(req.principal, nameFrom("module", owner, name), templates);
  });
}

/**
 * The settings the form changes, and only those: a writer who edits the description sends the visibility back
 * unchanged, and must not be refused for an owner decision they did not make.
 */
function moduleUpdate(
  mod: { visibility: Visibility; description?: string; defaultLabel: string; deprecation?: string },
  body: FormBody,
): ModuleUpdate {
  const visibility = visibilityOf(field(body, "visibility"));
  const description = field(body, "description");
  const defaultLabel = field(body, "defaultLabel");
  const deprecated = field(body, "deprecated") === "yes";
  const message = field(body, "deprecation");
  const deprecation = deprecated ? message : null;
  const wasDeprecation = mod.deprecation ?? null;
  return {
    ...(visibility && visibility !== mod.visibility ? { visibility } : {}),
    ...(description !== (mod.description ?? "") ? { description } : {}),
    ...(defaultLabel && defaultLabel !== mod.defaultLabel ? { defaultLabel } : {}),
    ...(deprecation !== wasDeprecation ? { deprecation } : {}),
  };
}
