// The HTTP side: the Fastify app (kept answers before routing, TLS, connection limits), operations routes
// (/healthz, /metrics), the management API, every registry with its catalog, and the web UI.
import { readFileSync } from "node:fs";
import { type ConnectRouter, createContextValues } from "@connectrpc/connect";
import { fastifyConnectPlugin } from "@connectrpc/connect-fastify";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import Fastify, { type FastifyInstance, LogController } from "fastify";
import { Counter, Gauge, type Registry as MetricsRegistry } from "prom-client";
import { createAuditServiceImpl } from "../api/audit-service.js";
import { createBotServiceImpl } from "../api/bot-service.js";
import { authInterceptor, principalKey } from "../api/context.js";
import { errorInterceptor } from "../api/errors.js";
import { refuseEarly, registerApiGuards, withClientStatuses } from "../api/guards.js";
import { createModuleServiceImpl } from "../api/module-service.js";
import { createOrganizationServiceImpl } from "../api/organization-service.js";
import { createPluginServiceImpl } from "../api/plugin-service.js";
import { createQuotaServiceImpl } from "../api/quota-service.js";
import { createServerReflection } from "../api/server-reflection.js";
import { createServerServiceImpl } from "../api/server-service.js";
import { createSignInServiceImpl } from "../api/sign-in-service.js";
import { createTemplateServiceImpl } from "../api/template-service.js";
import { createUserServiceImpl } from "../api/user-service.js";
import { createWebhookServiceImpl } from "../api/webhook-service.js";
import type { Config } from "../config/schema.js";
import { Code, RegistryError } from "../core/errors.js";
import { ServerReflection as ServerReflectionV1 } from "../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ServerReflectionV1alpha } from "../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { AuditService } from "../gen/protodepot/v1/audit_pb.js";
import { BotService } from "../gen/protodepot/v1/bot_pb.js";
import { ModuleService } from "../gen/protodepot/v1/module_pb.js";
import { OrganizationService } from "../gen/protodepot/v1/organization_pb.js";
import { PluginService } from "../gen/protodepot/v1/plugin_pb.js";
import { QuotaService } from "../gen/protodepot/v1/quota_pb.js";
import { ServerService } from "../gen/protodepot/v1/server_pb.js";
import { SignInService } from "../gen/protodepot/v1/sign_in_pb.js";
import { TemplateService } from "../gen/protodepot/v1/template_pb.js";
import { UserService } from "../gen/protodepot/v1/user_pb.js";
import { WebhookService } from "../gen/protodepot/v1/webhook_pb.js";
import { createClientAddress } from "../http/client-address.js";
import {
  autoMaxConnections,
  type ConnectionLimits,
  gateConnections,
  readOpenFileLimit,
} from "../http/connection-limits.js";
import { createH2cServer, type H2cServer } from "../http/h2c.js";
import { createHotResponses, createServerWith, type HotResponses } from "../http/hot-responses.js";
import { registerMetricsRoute } from "../http/metrics.js";
import { principalOf, principalOfNodeRequest } from "../http/principal.js";
import {
  createH2cRateCheck,
  createKeptAdmission,
  type RateLimitOptions,
  registerRateLimits,
} from "../http/rate-limits.js";
import { registerRegistry } from "../http/registry-plugin.js";
import { closeAfterUnreadBodies } from "../http/unread-body.js";
import { archiveRegistry } from "../registries/archive/routes.js";
import { registerBufOAuthFallback, registerBufServices } from "../registries/buf/routes.js";
import { cargoRegistry } from "../registries/cargo/routes.js";
import { cmakeRegistry } from "../registries/cmake/routes.js";
import { descriptorsRegistry } from "../registries/descriptors/routes.js";
import { goproxyRegistry } from "../registries/goproxy/routes.js";
import { mavenRegistry } from "../registries/maven/routes.js";
import { npmRegistry } from "../registries/npm/routes.js";
import { ociRegistry } from "../registries/oci/routes.js";
import { createProtocols } from "../registries/protocols.js";
import { pypiRegistry } from "../registries/pypi/routes.js";
import { rubygemsRegistry } from "../registries/rubygems/routes.js";
import { sourcesRegistry } from "../registries/sources/routes.js";
import type { ImageService } from "../services/images.js";
import type { Invalidation } from "../storage/meta/invalidation.js";
import type { MetadataStore } from "../storage/meta/metadata-store.js";
import { registerWebUi } from "../web/routes.js";
import type { Services } from "./services.js";
import type { Shutdown } from "./shutdown.js";

type Tls = { cert: Buffer; key: Buffer };

/** The PEM files of `server.tls`, read once at start; a missing or unreadable file is a start error naming it. */
function readTls(tls: Config["server"]["tls"]): Tls | undefined {
  if (tls.cert === undefined || tls.key === undefined) return undefined;
  const read = (key: "cert" | "key", path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new RegistryError(Code.InvalidArgument, `server.tls.${key}: cannot read ${path} (${reason})`);
    }
  };
  return { cert: read("cert", tls.cert), key: read("key", tls.key) };
}

/** server.* connection settings, with `auto` resolved against this process's open-file limit, read at start. */
function connectionLimits(server: Config["server"]): ConnectionLimits {
  const { maxConnections, maxConnectionsPerAddress, headersTimeoutMs, requestTimeoutMs } = server;
  return {
    maxConnections: maxConnections === "auto" ? autoMaxConnections(readOpenFileLimit()) : maxConnections,
    maxConnectionsPerAddress,
    headersTimeoutMs,
    requestTimeoutMs,
    idleTimeoutMs: server.idleTimeoutMs,
    keepAliveTimeoutMs: server.keepAliveTimeoutMs,
  };
}

export interface App {
  app: FastifyInstance;
  /** Repeat downloads answered from memory before routing; registries offer their answers to it. */
  hot: HotResponses;
  /** Whether the server speaks TLS itself. */
  https: boolean;
  /** The h2c listener of server.h2cPort, once the API routes are registered. */
  h2c?: H2cServer;
}

/**
 * The Fastify app, built first: its logger is the server's. TLS files are read and checked here, so a wrong one is a
 * start error before any storage is opened.
 */
export function createApp(
  config: Config,
  parts: { invalidation: Invalidation; metrics: MetricsRegistry },
): App {
  const { invalidation, metrics } = parts;
  const https = readTls(config.server.tls);
  const keptAnswers = new Counter({
    name: "protodepot_kept_answers_total",
    help: "Downloads answered from memory before routing (http/hot-responses.ts)",
    registers: [metrics],
  });
  // Repeat downloads are answered from memory before routing, under the same epoch and TTL as the metadata caches.
  const hot = createHotResponses({
    onHit: () => keptAnswers.inc(),
    epoch: invalidation.epoch,
    ttlMs: config.log.level === "debug" ? 0 : config.storage.meta.cacheTtlMs,
    maxBytes: config.storage.blob.cacheBytes,
    maxItemBytes: config.storage.blob.cacheItemBytes,
  });
  const refusedConnections = new Counter({
    name: "protodepot_connections_refused_total",
    help: "Connections closed at once: over server.maxConnectionsPerAddress (address) or server.maxConnections (total)",
    labelNames: ["reason"],
    registers: [metrics],
  });
  try {
    const app = Fastify({
      serverFactory: createServerWith(hot, https, {
        limits: connectionLimits(config.server),
        onRefused: (reason) => refusedConnections.inc({ reason }),
      }),
      trustProxy: config.server.trustProxy,
      logger: { level: config.log.level },
      logController: new LogController({ disableRequestLogging: config.log.level !== "debug" }),
    });
    closeAfterUnreadBodies(app);
    return { app, hot, https: https !== undefined };
  } catch (err) {
    // node:tls parses the PEM here: a wrong file or a key that does not match the certificate ends up in this catch.
    if (!https) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new RegistryError(
      Code.InvalidArgument,
      `server.tls: ${config.server.tls.cert} and ${config.server.tls.key} are not a PEM certificate and its private key (${reason})`,
    );
  }
}

export interface RouteParts {
  services: Services;
  /** The cached metadata store: the user API still reaches it directly. */
  meta: MetadataStore;
  invalidation: Invalidation;
  metrics: MetricsRegistry;
  shutdown: Shutdown;
}

/** Every route of the server; the listener is the first thing a shutdown closes. */
export async function registerRoutes(config: Config, http: App, parts: RouteParts): Promise<void> {
  const { app, hot, https } = http;
  const { windowMs, anonymous, user, bot, admin } = config.rateLimits;
  const { rateLimiter } = parts.services;
  const limits: RateLimitOptions = {
    windowMs,
    requests: { anonymous, user, bot, admin },
    ...(rateLimiter ? { limiter: rateLimiter } : {}),
  };
  // App-wide and first, so every protocol's requests are counted before their own hooks run; kept answers are
  // counted by the same limiter before they are sent.
  registerRateLimits(app, parts.services.auth, limits);
  if (rateLimiter)
    hot.limit(
      createKeptAdmission({ ...limits, limiter: rateLimiter }, createClientAddress(config.server.trustProxy)),
    );
  const sweeper = sweepUploads(config, app, parts.services.images);
  parts.shutdown.add("http", () => clearInterval(sweeper));
  parts.shutdown.add("http", () => app.close());
  registerOperations(config, app, parts);
  await registerApi(config, http, parts, limits);
  registerRegistries(config, app, hot, parts);
  const {
    auth,
    modules,
    plugins,
    templates,
    orgs,
    users,
    bots,
    webhooks,
    pregenerate,
    outcomes,
    identities,
  } = parts.services;
  registerWebUi(
    app,
    { modules, plugins, templates, orgs, users, bots, webhooks, pregenerate, outcomes, identities },
    {
      auth,
      audit: parts.services.audit,
      sso: parts.services.sso,
      localSignIn: config.auth.localSignIn,
      goHost: config.go.host,
      npmScope: config.npm.scope,
      mavenGroupId: config.maven.groupId,
      publicUrl: config.server.publicUrl,
      secureCookie: https || (config.server.publicUrl?.startsWith("https:") ?? false),
    },
  );
}

/** Abandoned uploads go after oci.uploadTtlMs; checked a few times per TTL, never holding the process open. */
function sweepUploads(config: Config, app: FastifyInstance, images: ImageService): NodeJS.Timeout {
  const log = app.log;
  const sweep = () =>
    images.sweepUploads().then(
      (removed) => removed && log.info({ removed }, "abandoned uploads removed"),
      (err: unknown) => log.warn({ err }, "upload sweep failed"),
    );
  const sweeper = setInterval(sweep, Math.max(1000, Math.floor(config.oci.uploadTtlMs / 4)));
  sweeper.unref();
  void sweep();
  return sweeper;
}

/** /healthz, /metrics and the open-connections gauge. */
function registerOperations(config: Config, app: FastifyInstance, { services, metrics }: RouteParts): void {
  const { health, auth } = services;
  const answered = new Counter({
    name: "protodepot_http_requests_total",
    help: "Requests answered on the main port through routing (answers kept in memory count in protodepot_kept_answers_total)",
    labelNames: ["method"],
    registers: [metrics],
  });
  app.addHook("onResponse", async (request) => {
    answered.inc({
      method: request.method === "GET" || request.method === "POST" ? request.method : "other",
    });
  });
  app.get("/healthz", async (_req, reply) => {
    const report = await health.check();
    // Degraded (a full disk) keeps 200: reads still work, and every node sharing the storage would fail together.
    const { problems, ...ready } = report;
    return reply.code(report.ok ? 200 : 503).send(report.ok ? ready : report);
  });
  new Gauge({
    name: "protodepot_connections_open",
    help: "Connections this process holds (server.maxConnections and server.maxConnectionsPerAddress bound them)",
    registers: [metrics],
    async collect() {
      this.set(await new Promise<number>((done) => app.server.getConnections((_err, n) => done(n))));
    },
  });
  registerMetricsRoute(app, { auth, metrics, access: config.server.metrics });
}

/** The management API (Connect) and buf's Connect services on the same port, and on server.h2cPort if set. */
async function registerApi(
  config: Config,
  http: App,
  parts: RouteParts,
  limits: RateLimitOptions,
): Promise<void> {
  const { app } = http;
  const { auth } = parts.services;
  // Connect reads request bodies itself: size and caller are checked before it does.
  const maxBody = config.limits.maxUploadBytes;
  registerApiGuards(app, { auth, maxBodyBytes: maxBody });
  const routes = connectRoutes(config, parts.services, maxBody);
  // Outermost first: every failure, the caller's authentication included, leaves as a Connect error.
  const interceptors = [errorInterceptor, authInterceptor];
  await app.register(fastifyConnectPlugin, {
    interceptors,
    readMaxBytes: maxBody,
    contextValues: (request) => createContextValues().set(principalKey, () => principalOf(auth, request)),
    routes,
  });
  registerBufOAuthFallback(app);
  if (config.server.h2cPort === undefined) return;
  // Counted like the main port's requests, before anything else is checked.
  const rateCheck =
    limits.limiter &&
    createH2cRateCheck({ ...limits, limiter: limits.limiter }, (req) => principalOfNodeRequest(auth, req));
  const h2c = createH2cServer({
    handler: connectNodeAdapter({
      routes,
      interceptors,
      readMaxBytes: maxBody,
      contextValues: (req) =>
        createContextValues().set(principalKey, () => principalOfNodeRequest(auth, req)),
    }),
    refuse: async (req) =>
      (await rateCheck?.(req)) ??
      refuseEarly(
        {
          path: req.url.split("?")[0] ?? "",
          contentLength: req.headers["content-length"],
          principal: () => principalOfNodeRequest(auth, req),
        },
        maxBody,
      ),
    idleTimeoutMs: config.server.idleTimeoutMs,
    onError: (err) => app.log.error({ err }, "h2c request check failed"),
  });
  // The main port's bounds, counted for this port apart.
  gateConnections(h2c.server, connectionLimits(config.server));
  http.h2c = h2c;
  parts.shutdown.add("http", () => h2c.close());
}

/** Every Connect service: our API, buf's services, and gRPC reflection of our API. */
function connectRoutes(config: Config, services: Services, maxBody: number): (router: ConnectRouter) => void {
  const {
    users,
    bots,
    audit,
    quotas,
    orgs,
    modules,
    plugins,
    templates,
    pregenerate,
    remotePlugins,
    access,
    deletion,
    sso,
  } = services;
  const ownApi = [
    UserService,
    SignInService,
    BotService,
    AuditService,
    QuotaService,
    WebhookService,
    OrganizationService,
    ModuleService,
    PluginService,
    TemplateService,
    ServerService,
  ];
  const reflection = createServerReflection(ownApi);
  return (router) => {
    router.service(UserService, createUserServiceImpl(users));
    router.service(SignInService, createSignInServiceImpl(sso, services.identities));
    router.service(BotService, createBotServiceImpl(bots));
    router.service(AuditService, createAuditServiceImpl(audit));
    router.service(QuotaService, createQuotaServiceImpl(quotas));
    router.service(WebhookService, createWebhookServiceImpl(services.webhooks));
    router.service(OrganizationService, createOrganizationServiceImpl(orgs, pregenerate));
    router.service(ModuleService, createModuleServiceImpl(modules, pregenerate));
    router.service(PluginService, createPluginServiceImpl(plugins, deletion));
    router.service(TemplateService, createTemplateServiceImpl(templates, deletion));
    router.service(
      ServerService,
      createServerServiceImpl({ npmScope: config.npm.scope, goHost: config.go.host }, access),
    );
    router.service(ServerReflectionV1, reflection.v1);
    router.service(ServerReflectionV1alpha, reflection.v1alpha);
    registerBufServices(router, { modules, orgs, plugins, templates, remotePlugins, deletion });
    withClientStatuses(router, maxBody);
  };
}

/** One encapsulated plugin per protocol, each over its protocol object (registries/protocols.ts builds them all). */
function registerRegistries(
  config: Config,
  app: FastifyInstance,
  hot: HotResponses,
  { services, invalidation }: RouteParts,
): void {
  const { auth, modules, templates, generation, images, deprecations } = services;
  const log = app.log;
  const protocols = createProtocols(
    { generation, modules, templates, deprecations },
    {
      npmScope: config.npm.scope,
      mavenGroupId: config.maven.groupId,
      invalidation,
      onBackgroundError: (registry, err) => log.warn({ err }, `${registry} background generation failed`),
    },
  );
  registerRegistry(app, auth, sourcesRegistry(protocols.sources), { hot });
  registerRegistry(app, auth, descriptorsRegistry(protocols.descriptors), { hot });
  registerRegistry(app, auth, archiveRegistry(protocols.archive), { hot });
  registerRegistry(app, auth, goproxyRegistry(protocols.goproxy, { goHost: config.go.host }), { hot });
  registerRegistry(app, auth, ociRegistry(images, { maxManifestBytes: config.oci.maxManifestBytes }));
  registerRegistry(
    app,
    auth,
    npmRegistry(protocols.npm, { scope: config.npm.scope, publicUrl: config.server.publicUrl }),
    { hot },
  );
  registerRegistry(app, auth, pypiRegistry(protocols.pypi), { hot });
  registerRegistry(app, auth, mavenRegistry(protocols.maven, { groupId: config.maven.groupId }), { hot });
  registerRegistry(app, auth, rubygemsRegistry(protocols.rubygems), { hot });
  registerRegistry(app, auth, cargoRegistry(protocols.cargo, { publicUrl: config.server.publicUrl }), {
    hot,
  });
  registerRegistry(app, auth, cmakeRegistry(protocols.cmake), { hot });
}

/** Where the server listens: the URL clients are told, and the h2c listener's (server.h2cPort) if any. */
export interface Listening {
  url: string;
  h2cUrl?: string;
}

/** Listens on server.host and server.port; the URL clients are told (server.publicUrl, else the bound address). */
export async function listen(config: Config, { app, https, h2c }: App): Promise<Listening> {
  await app.listen({
    host: config.server.host,
    port: config.server.port,
    // Fastify names the scheme from its own https option, which our serverFactory's TLS server does not set.
    listenTextResolver: (address) =>
      `Server listening at ${https ? address.replace(/^http:/, "https:") : address}`,
  });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : config.server.port;
  const host = config.server.host.includes(":") ? `[${config.server.host}]` : config.server.host;
  const url = config.server.publicUrl ?? `${https ? "https" : "http"}://${host}:${port}`;
  app.log.info({ url }, "protodepot listening");
  if (!h2c || config.server.h2cPort === undefined) return { url };
  await new Promise<void>((resolve, reject) => {
    h2c.server.once("error", reject);
    h2c.server.listen(config.server.h2cPort, config.server.host, () => {
      h2c.server.off("error", reject);
      resolve();
    });
  });
  const bound = h2c.server.address();
  const h2cUrl = `http://${host}:${typeof bound === "object" && bound ? bound.port : config.server.h2cPort}`;
  app.log.info({ url: h2cUrl }, "protodepot h2c listening");
  return { url, h2cUrl };
}
