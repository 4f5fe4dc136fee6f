// The domain services over the stores and the execution parts, each built once, in dependency order.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { FastifyBaseLogger } from "fastify";
import type { Registry as MetricsRegistry } from "prom-client";
import type { Config } from "../config/schema.js";
import type { Commit } from "../core/types.js";
import { createGenerateMetrics } from "../generate/metrics.js";
import { archivePackager, zipArchivePackager } from "../generate/package/archive.js";
import { cargoPackager } from "../generate/package/cargo.js";
import { cmakePackager } from "../generate/package/cmake.js";
import { goPackager } from "../generate/package/go.js";
import { createMavenPackager } from "../generate/package/maven.js";
import { mavenSourcesPackager } from "../generate/package/maven-sources.js";
import { npmPackager } from "../generate/package/npm.js";
import { pypiPackager } from "../generate/package/pypi.js";
import { rubygemsPackager } from "../generate/package/rubygems.js";
import { type AccessPolicy, createAccessPolicy } from "../services/access.js";
import { createArtifactGenerator } from "../services/artifact-generator.js";
import { type AuditTrail, createAuditTrail } from "../services/audit.js";
import { type AuthService, createAuthService, type Principal } from "../services/auth.js";
import { type BotService, createBotService } from "../services/bots.js";
import { createPackageDeprecations, type PackageDeprecations } from "../services/deprecation.js";
import { createEvents, type Events, withEvents } from "../services/events.js";
import { createGenerationService, type GenerationService } from "../services/generation.js";
import {
  createGenerationOutcomes,
  type GenerationOutcomeRecorder,
  type GenerationOutcomes,
} from "../services/generation-outcomes.js";
import { createHealthCheck, type HealthCheck } from "../services/health.js";
import { createIdentityService, type IdentityService } from "../services/identities.js";
import { createImageService, createImageUsage, type ImageService } from "../services/images.js";
import { createDeletionService, type DeletionService } from "../services/lifecycle/deletion.js";
import { createServedDays, type ServedDays } from "../services/lifecycle/last-served.js";
import { createNameQuarantine } from "../services/lifecycle/quarantine.js";
import { createModuleService, type ModuleService } from "../services/modules.js";
import { createOrganizationService, type OrganizationService } from "../services/organizations.js";
import { createPayers } from "../services/payers.js";
import { createPluginService, type PluginService } from "../services/plugins.js";
import { createPregenerateService, type PregenerateService } from "../services/pregenerate.js";
import { createQuotas, type Quotas } from "../services/quotas.js";
import {
  createGenerationBudget,
  createRateLimiter,
  createSharedRateLimiter,
  type RateLimiter,
} from "../services/rate-limiter.js";
import { createRemotePluginService, type RemotePluginService } from "../services/remote-plugins.js";
import { createSsoService, type SsoService } from "../services/sso.js";
import { createSsoAccounts } from "../services/sso-accounts.js";
import { createTemplateService, type TemplateService } from "../services/templates.js";
import { createUserService, type UserService } from "../services/users.js";
import { startWebhookDispatcher, type WebhookDispatcher } from "../services/webhooks/dispatcher.js";
import { sendDelivery } from "../services/webhooks/send.js";
import { createTargetPolicy } from "../services/webhooks/targets.js";
import { createWebhookService, type WebhookService } from "../services/webhooks.js";
import type { LocalInvalidation } from "../storage/meta/invalidation.js";
import type { Execution } from "./execution.js";
import type { Shutdown } from "./shutdown.js";
import { type Storage, storageProbe } from "./storage.js";

export interface Services {
  auth: AuthService;
  /** Sign-in through the auth.oidc providers (docs/sso.md). */
  sso: SsoService;
  /** Linked provider accounts, self-service (docs/sso.md). */
  identities: IdentityService;
  access: AccessPolicy;
  audit: AuditTrail;
  quotas: Quotas;
  users: UserService;
  bots: BotService;
  orgs: OrganizationService;
  modules: ModuleService;
  plugins: PluginService;
  templates: TemplateService;
  deletion: DeletionService;
  images: ImageService;
  generation: GenerationService;
  /** What became of the latest generations this process ran (the web UI offers no failing template). */
  outcomes: GenerationOutcomes;
  remotePlugins: RemotePluginService;
  pregenerate: PregenerateService;
  health: HealthCheck;
  /** Where changes write their events (docs/webhooks.md); other services call `events.emit`. */
  events: Events;
  webhooks: WebhookService;
  /** Where rate limits count (shared by the nodes, or this node's memory); absent when every limit is off. */
  rateLimiter?: RateLimiter;
  /** What a package's consumers are told of deprecated modules, templates and plugins (docs/lifecycle.md). */
  deprecations: PackageDeprecations;
}

export interface ServiceParts {
  storage: Storage;
  execution: Execution;
  invalidation: LocalInvalidation;
  metrics: MetricsRegistry;
  log: FastifyBaseLogger;
  shutdown: Shutdown;
}

/** buf batches every `remote:` plugin of one host into one call; a buf.gen.yaml rarely lists more than a few. */
const maxRemotePluginsPerCall = 32;

export function createServices(config: Config, parts: ServiceParts): Services {
  const { storage, log, shutdown } = parts;
  const { meta, blobs } = storage;
  const { auth, sso, identities, access, audit: trail, users, bots } = identityServices(config, parts);
  const { events, webhooks } = webhookServices(config, parts, access, trail);
  // Changes recorded after they are made also write their events (labels, visibility, versions, deprecation).
  const changes = withEvents(trail, events);
  const orgs = createOrganizationService(meta, {
    access,
    audit: trail,
    allowOrgCreation: config.auth.allowOrgCreation,
    maxOrgsPerUser: config.auth.maxOrgsPerUser,
  });
  const imageUsage = createImageUsage({ blobs, meta });
  const quotas = createQuotas({ meta, access, defaults: quotaDefaults(config), imageUsage, audit: trail });
  const lifecycle = lifecycleParts(config, parts);
  // Pre-generation reads modules, so it is built after them and hears of new commits through this list.
  const committed: ((principal: Principal, commit: Commit) => void)[] = [];
  const { modules, plugins, templates, deletion } = schemaServices(config, parts, {
    access,
    trail,
    changes,
    events,
    quotas,
    lifecycle,
    // Every push path (ours, buf's Upload) starts the subscribed generations in the background.
    onCommitted: (principal, commit) => {
      for (const listener of committed) listener(principal, commit);
    },
  });
  const images = createImageService({ blobs, plugins, limits: config.oci, quotas, usage: imageUsage });
  const outcomes = createGenerationOutcomes();
  const rateLimiter = rateLimiterOf(config, parts);
  const generation = generationService(config, {
    ...parts,
    modules,
    templates,
    outcomes,
    servedDays: lifecycle.servedDays,
    events,
    rateLimiter,
  });
  const remotePlugins = remotePluginService(config, { ...parts, plugins });
  const pregenerate = createPregenerateService({
    meta,
    access,
    modules,
    templates,
    generation,
    log,
    audit: trail,
  });
  committed.push((principal, commit) => pregenerate.afterPush(principal, commit));
  shutdown.add("services", () => pregenerate.close());
  const health = healthOf(config, parts);
  return {
    auth,
    sso,
    identities,
    access,
    audit: trail,
    quotas,
    users,
    bots,
    orgs,
    modules,
    plugins,
    templates,
    deletion,
    images,
    generation,
    outcomes,
    remotePlugins,
    pregenerate,
    health,
    deprecations: createPackageDeprecations(meta),
    events,
    webhooks,
    ...(rateLimiter ? { rateLimiter } : {}),
  };
}

/** quotas.* and the plugin image quotas of oci.* (docs/quotas.md). */
function quotaDefaults(config: Config) {
  const { ownerQuotaBytes, ownerQuotaImages } = config.oci;
  return { ...config.quotas, imageBytesPerOwner: ownerQuotaBytes, imagesPerOwner: ownerQuotaImages };
}

/** Deletion rules (docs/lifecycle.md): quarantined names, and the last-served day, noted only when it is checked. */
function lifecycleParts(config: Config, parts: ServiceParts) {
  const { meta } = parts.storage;
  const days = config.lifecycle.refuseDeleteIfServedWithinDays;
  const servedDays =
    days > 0
      ? createServedDays({
          meta,
          onError: (err) => parts.log.warn({ err }, "recording served days failed"),
        })
      : undefined;
  if (servedDays) parts.shutdown.add("services", () => servedDays.close());
  return {
    quarantine: createNameQuarantine({ meta, policy: config.lifecycle.quarantineDays }),
    refuseDeleteIfServedWithinDays: days,
    servedDays,
  };
}

/** /healthz: the stores, the sandbox and the storage probe, answered within its own deadline. */
function healthOf(config: Config, parts: ServiceParts): HealthCheck {
  const { storage, execution, log } = parts;
  const { meta, blobs } = storage;
  return createHealthCheck({
    meta,
    blobs,
    timeoutMs: 2000,
    log,
    sandbox: execution.sandbox,
    storage: storageProbe(config),
    probeIntervalMs: config.health.probeIntervalMs,
  });
}

/** Modules, plugins, templates and their deletion: what owners push and consumers generate from. */
function schemaServices(
  config: Config,
  parts: ServiceParts,
  shared: {
    access: AccessPolicy;
    trail: AuditTrail;
    changes: AuditTrail;
    events: Events;
    quotas: Quotas;
    lifecycle: ReturnType<typeof lifecycleParts>;
    onCommitted: (principal: Principal, commit: Commit) => void;
  },
) {
  const { meta, blobs } = parts.storage;
  const { execution } = parts;
  const { access, trail, changes, events, quotas, lifecycle } = shared;
  const defaultVisibility = config.defaults.visibility;
  const modules = createModuleService({
    meta,
    blobs,
    compiler: execution.compiler,
    checker: execution.checker,
    access,
    limits: config.limits,
    defaultVisibility,
    audit: changes,
    events,
    quotas,
    onCommitted: shared.onCommitted,
    lifecycle,
  });
  const { quarantine } = lifecycle;
  const plugins = createPluginService(meta, {
    access,
    defaultVisibility,
    protoc: execution.protoc,
    audit: changes,
    quarantine,
  });
  const templates = createTemplateService(meta, plugins, {
    access,
    defaultVisibility,
    audit: changes,
    quarantine,
  });
  const deletion = createDeletionService({
    meta,
    access,
    quarantine: config.lifecycle.quarantineDays,
    refuseIfServedWithinDays: lifecycle.refuseDeleteIfServedWithinDays,
    servedDays: lifecycle.servedDays,
    audit: trail,
  });
  return { modules, plugins, templates, deletion };
}

/**
 * The counter of rate limits (docs/tokens.md): in the metadata store when rateLimits.shared says so (by default
 * when the metadata is PostgreSQL, which nodes share), else in memory; none when every limit is 0.
 */
function rateLimiterOf(config: Config, parts: ServiceParts): RateLimiter | undefined {
  const { windowMs, generations, shared, sharedSlackPercent, ...requests } = config.rateLimits;
  if ([...Object.values(requests), ...Object.values(generations)].every((n) => n <= 0)) return undefined;
  if (!(shared ?? config.storage.meta.driver === "postgres")) return createRateLimiter({ windowMs });
  const limiter = createSharedRateLimiter({
    windowMs,
    store: parts.storage.meta,
    slackPercent: sharedSlackPercent,
    log: parts.log,
  });
  parts.shutdown.add("services", () => limiter.close?.());
  return limiter;
}

/** Events, the subscriptions, and this node's dispatcher of their deliveries (stopped with the services). */
function webhookServices(
  config: Config,
  parts: ServiceParts,
  access: AccessPolicy,
  audit: AuditTrail,
): { events: Events; webhooks: WebhookService } {
  const { storage, log, shutdown } = parts;
  const { meta } = storage;
  const w = config.webhooks;
  const targets = createTargetPolicy({
    allowPrivateTargets: w.allowPrivateTargets,
    allowedTargets: w.allowedTargets,
  });
  let dispatcher: WebhookDispatcher | undefined;
  const events = createEvents({ store: meta, log, onEmitted: () => dispatcher?.wake() });
  dispatcher = startWebhookDispatcher({
    store: meta,
    holder: `${hostname()}/${process.pid}/${randomBytes(4).toString("hex")}`,
    send: (d) =>
      sendDelivery(d, { policy: targets, timeoutMs: w.timeoutMs, userAgent: "protodepot-webhooks/1" }),
    timeoutMs: w.timeoutMs,
    maxAttempts: w.maxAttempts,
    retryBaseMs: w.retryBaseMs,
    retryMaxMs: w.retryMaxMs,
    pollMs: w.pollMs,
    concurrency: w.concurrency,
    retentionDays: w.retentionDays,
    log,
  });
  const started = dispatcher;
  shutdown.add("services", () => started.close());
  const webhooks = createWebhookService({ store: meta, access, targets, audit });
  return { events, webhooks };
}

/** Who asks and what they may do: authentication, the access policy, the audit trail, users and bots. */
function identityServices(
  config: Config,
  parts: ServiceParts,
): Pick<Services, "auth" | "sso" | "identities" | "access" | "audit" | "users" | "bots"> {
  const { storage, log, shutdown } = parts;
  const { meta } = storage;
  // Failed sign-ins reach the audit trail, which needs the access policy, which needs nothing from auth.
  let audit: AuditTrail | undefined;
  const auth = createAuthService(meta, {
    log,
    onFailure: (client, reason) => audit?.failedAuth(client, reason),
  });
  const access = createAccessPolicy(meta, { anonymousRead: config.auth.anonymousRead });
  audit = createAuditTrail({
    store: meta,
    access,
    log,
    enabled: config.audit.enabled,
    retentionDays: config.audit.retentionDays,
    failureWindowMs: config.audit.failureWindowMs,
  });
  const trail = audit;
  shutdown.add("services", () => trail.flush());
  const users = createUserService(meta, auth, {
    access,
    audit: trail,
    maxTokenLifetimeDays: config.auth.maxTokenLifetimeDays,
  });
  const bots = createBotService({ meta, access, audit: trail });
  const sso = createSsoService({
    providers: config.auth.oidc,
    accounts: createSsoAccounts({ store: meta, audit: trail, log }),
    auth,
    audit: trail,
    maxTokenLifetimeDays: config.auth.maxTokenLifetimeDays,
  });
  const identities = createIdentityService({
    store: meta,
    audit: trail,
    providers: config.auth.oidc,
    localSignIn: config.auth.localSignIn,
  });
  return { auth, sso, identities, access, audit: trail, users, bots };
}

function generationService(
  config: Config,
  parts: ServiceParts & {
    modules: ModuleService;
    templates: TemplateService;
    outcomes: GenerationOutcomeRecorder;
    servedDays: ServedDays | undefined;
    events: Events;
    rateLimiter: RateLimiter | undefined;
  },
): GenerationService {
  const {
    storage,
    execution,
    invalidation,
    metrics,
    log,
    modules,
    templates,
    servedDays,
    events,
    rateLimiter,
  } = parts;
  const { meta, blobs } = storage;
  return createGenerationService({
    meta,
    blobs,
    modules,
    templates,
    generator: createArtifactGenerator({
      meta,
      blobs,
      runtime: execution.runtime,
      limits: config.plugins,
      scheduler: execution.scheduler,
      outcomes: parts.outcomes.wrapper,
      metrics,
      log,
      lease: {
        holder: `${hostname()}/${process.pid}/${randomBytes(4).toString("hex")}`,
        ttlMs: config.storage.meta.leaseTtlMs,
      },
      events,
    }),
    packagers: [
      archivePackager,
      zipArchivePackager,
      npmPackager,
      goPackager,
      pypiPackager,
      mavenSourcesPackager,
      rubygemsPackager,
      cargoPackager,
      cmakePackager,
      createMavenPackager({
        compiler: execution.javac,
        groupId: config.maven.groupId,
        runtimeRepository: config.maven.runtimeRepository,
      }),
    ],
    goHost: config.go.host,
    npmScope: config.npm.scope,
    smallBlobs: blobs,
    invalidation,
    resolutionTtlMs: config.storage.meta.cacheTtlMs,
    payers: createPayers(meta),
    onServed: servedDays && ((record) => servedDays.served(record)),
    budget:
      rateLimiter &&
      createGenerationBudget({
        limiter: rateLimiter,
        windowMs: config.rateLimits.windowMs,
        generations: config.rateLimits.generations,
      }),
  });
}

function remotePluginService(
  config: Config,
  parts: ServiceParts & { plugins: PluginService },
): RemotePluginService {
  const { storage, execution, metrics, log, plugins } = parts;
  return createRemotePluginService({
    plugins,
    runtime: execution.runtime,
    scheduler: execution.scheduler,
    output: {
      maxFiles: config.plugins.maxFiles,
      maxOutputBytes: config.plugins.maxOutputBytes,
      maxInsertions: config.plugins.maxInsertions,
    },
    maxImageFiles: config.limits.maxFiles,
    maxRequests: maxRemotePluginsPerCall,
    metrics: createGenerateMetrics(metrics),
    log,
    payers: createPayers(storage.meta),
  });
}
