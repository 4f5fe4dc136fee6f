// Composition root: config → storage → services → routes. Nothing else wires parts together.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname, resolve, sep } from "node:path";
import { createContextValues } from "@connectrpc/connect";
import { fastifyConnectPlugin } from "@connectrpc/connect-fastify";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import { Counter, collectDefaultMetrics, Gauge, Registry as MetricsRegistry } from "prom-client";
import { authInterceptor, principalKey } from "./api/context.js";
import { errorInterceptor } from "./api/errors.js";
import { registerApiGuards, withClientStatuses } from "./api/guards.js";
import { createModuleServiceImpl } from "./api/module-service.js";
import { createOrganizationServiceImpl } from "./api/organization-service.js";
import { createPluginServiceImpl } from "./api/plugin-service.js";
import { createServerServiceImpl } from "./api/server-service.js";
import { createTemplateServiceImpl } from "./api/template-service.js";
import { createUserServiceImpl } from "./api/user-service.js";
import { createBufChecker } from "./compile/buf-checks.js";
import { createBufCompiler, defaultBuf } from "./compile/buf-compiler.js";
import { createBufRunner } from "./compile/buf-runner.js";
import type { Config } from "./config/schema.js";
import { Code, RegistryError } from "./core/errors.js";
import { ModuleService } from "./gen/protodepot/v1/module_pb.js";
import { OrganizationService } from "./gen/protodepot/v1/organization_pb.js";
import { PluginService } from "./gen/protodepot/v1/plugin_pb.js";
import { ServerService } from "./gen/protodepot/v1/server_pb.js";
import { TemplateService } from "./gen/protodepot/v1/template_pb.js";
import { UserService } from "./gen/protodepot/v1/user_pb.js";
import { createJavaCompiler } from "./generate/java/javac.js";
import { createGenerateMetrics } from "./generate/metrics.js";
import { archivePackager } from "./generate/package/archive.js";
import { goPackager } from "./generate/package/go.js";
import { createMavenPackager } from "./generate/package/maven.js";
import { npmPackager } from "./generate/package/npm.js";
import { pypiPackager } from "./generate/package/pypi.js";
import { createFairScheduler } from "./generate/wrappers.js";
import { autoMaxConnections, type ConnectionLimits, readOpenFileLimit } from "./http/connection-limits.js";
import { createHotResponses, createServerWith } from "./http/hot-responses.js";
import { registerMetricsRoute } from "./http/metrics.js";
import { principalOf } from "./http/principal.js";
import { registerRegistry } from "./http/registry-plugin.js";
import { createHostRuntime } from "./plugins/host/host-runtime.js";
import { createOciRuntime } from "./plugins/oci/oci-runtime.js";
import { createRootfsCache } from "./plugins/oci/rootfs-cache.js";
import { chooseRootfsDir } from "./plugins/oci/rootfs-dir.js";
import { createProtocRuntime, detectProtoc } from "./plugins/protoc/protoc-runtime.js";
import { createRuntimeByKind } from "./plugins/runtime.js";
import { createSandbox } from "./plugins/sandbox/sandbox.js";
import { archiveRegistry } from "./registries/archive/routes.js";
import { registerBufOAuthFallback, registerBufServices } from "./registries/buf/routes.js";
import { goproxyRegistry } from "./registries/goproxy/routes.js";
import { mavenRegistry } from "./registries/maven/routes.js";
import { npmRegistry } from "./registries/npm/routes.js";
import { ociRegistry } from "./registries/oci/routes.js";
import { createPypiCatalog } from "./registries/pypi/catalog.js";
import { pypiRegistry } from "./registries/pypi/routes.js";
import { sourcesRegistry } from "./registries/sources/routes.js";
import { createAccessPolicy } from "./services/access.js";
import { createArtifactGenerator, pluginSlots } from "./services/artifact-generator.js";
import { type AuthService, createAuthService } from "./services/auth.js";
import { registerBuiltins } from "./services/builtins.js";
import { seedDemo } from "./services/demo.js";
import { type FsckReport, formatFsckSummary, runFsck } from "./services/fsck.js";
import { createGenerationService } from "./services/generation.js";
import { createHealthCheck, type StorageProbe } from "./services/health.js";
import { createImageService } from "./services/images.js";
import { createModuleService } from "./services/modules.js";
import { createOrganizationService } from "./services/organizations.js";
import { createPayers } from "./services/payers.js";
import { createPluginService } from "./services/plugins.js";
import { createPregenerateService } from "./services/pregenerate.js";
import { createRemotePluginService } from "./services/remote-plugins.js";
import { withStartupLease } from "./services/startup.js";
import { createTemplateService } from "./services/templates.js";
import { createUserService } from "./services/users.js";
import type { BlobMaintenance, BlobStore } from "./storage/blob/blob-store.js";
import { withContentCache } from "./storage/blob/content-cache.js";
import { createFsBlobStore } from "./storage/blob/fs/fs-blob-store.js";
import { withVerification } from "./storage/blob/verify.js";
import { withMetadataCache } from "./storage/meta/cached-metadata-store.js";
import { createInvalidation, type InvalidationBus, localBus } from "./storage/meta/invalidation.js";
import type { MetadataStore } from "./storage/meta/metadata-store.js";
import { createSqliteMetadataStore } from "./storage/meta/sqlite/sqlite-metadata-store.js";
import { registerWebUi } from "./web/routes.js";

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  /** Set on the first start without PROTODEPOT_ADMIN_TOKEN: the admin's token, shown once. */
  adminToken?: string;
  close(): Promise<void>;
}

// Drivers are chosen by name from explicit maps; a new driver is one entry each (and its config sub-object). The
// scale-out drivers are imported only when chosen: the AWS SDK and pg cost the embedded default ~25 MB of RSS each.
const metadataDrivers: Record<Config["storage"]["meta"]["driver"], (c: Config) => Promise<MetadataStore>> = {
  sqlite: (c) =>
    createSqliteMetadataStore({ path: c.storage.meta.sqlite.path ?? resolve(c.dataDir, "metadata.sqlite") }),
  postgres: async ({ storage: { meta } }) => {
    const { createPostgresMetadataStore } = await import(
      "./storage/meta/postgres/postgres-metadata-store.js"
    );
    // The schema refuses driver postgres without a url, so the fallback is never used.
    return createPostgresMetadataStore({ url: meta.postgres.url ?? "", poolSize: meta.postgres.poolSize });
  },
};

type OpenedBlobStore = BlobStore & Partial<BlobMaintenance> & { close?(): void };

const blobDrivers: Record<Config["storage"]["blob"]["driver"], (c: Config) => Promise<OpenedBlobStore>> = {
  fs: (c) =>
    createFsBlobStore({
      root: c.storage.blob.fs.root ?? resolve(c.dataDir, "blobs"),
      fsync: c.storage.blob.fs.fsync,
    }),
  s3: async ({ storage: { blob } }) => {
    const { createS3BlobStore } = await import("./storage/blob/s3/s3-blob-store.js");
    const { endpoint, bucket, prefix, region, accessKeyId, secretAccessKey, forcePathStyle } = blob.s3;
    return createS3BlobStore({
      ...(endpoint !== undefined ? { endpoint } : {}),
      // The schema refuses driver s3 without a bucket.
      bucket: bucket ?? "",
      prefix,
      region,
      ...(accessKeyId !== undefined && secretAccessKey !== undefined ? { accessKeyId, secretAccessKey } : {}),
      forcePathStyle: forcePathStyle ?? endpoint !== undefined,
    });
  },
};

/** The PEM files of `server.tls`, read once at start; a missing or unreadable file is a start error naming it. */
function readTls(tls: Config["server"]["tls"]): { cert: Buffer; key: Buffer } | undefined {
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

/**
 * The local directories this node writes to, for the write probe and free-space check of /healthz: dataDir, and
 * the sqlite file's directory and the fs blob root when they lie outside it (probe files never land among blobs).
 */
function storageProbe(config: Config): StorageProbe {
  const dataDir = resolve(config.dataDir);
  const dirs = [dataDir];
  const outside = (dir: string) => dir !== dataDir && !dir.startsWith(dataDir + sep);
  const { meta, blob } = config.storage;
  if (meta.driver === "sqlite" && meta.sqlite.path && outside(dirname(resolve(meta.sqlite.path))))
    dirs.push(dirname(resolve(meta.sqlite.path)));
  if (blob.driver === "fs" && blob.fs.root && outside(resolve(blob.fs.root)))
    dirs.push(resolve(blob.fs.root));
  return { dirs, minFreeBytes: config.health.minFreeBytes };
}

/** buf batches every `remote:` plugin of one host into one call; a buf.gen.yaml rarely lists more than a few. */
const maxRemotePluginsPerCall = 32;

export interface StartHooks {
  /**
   * Called with the admin's first token as soon as it exists, before anything else can fail (a busy port, say),
   * and with the file that keeps it until it is revoked.
   */
  onInitialAdminToken?(token: string, file: string): void;
}

/** The first start's admin token, kept beside the data (mode 0600) so a failed first start never loses it. */
const initialAdminTokenFile = (config: Config) => resolve(config.dataDir, "initial-admin-token");

async function keepInitialAdminToken(config: Config, auth: AuthService, secret: string | undefined) {
  const file = initialAdminTokenFile(config);
  if (secret) {
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, `${secret}\n`, { mode: 0o600 });
    renameSync(temp, file);
    return;
  }
  if (!existsSync(file)) return;
  // Once that token is revoked (an admin made their own), the file has done its job.
  const kept = readFileSync(file, "utf8").trim();
  const valid = await auth.authenticate(`Bearer ${kept}`).then(
    () => true,
    () => false,
  );
  if (!valid) unlinkSync(file);
}

export interface ServerRuntimeOptions extends StartHooks {
  /** How this process's metadata writes reach the caches of its sibling workers (serve --workers N). */
  bus?: InvalidationBus;
  /**
   * Ensure the admin, register built-in plugins and seed the demo (default true). Of several workers only the first
   * does, before the others start, so they never race to create the same rows.
   */
  setup?: boolean;
}

export async function startServer(config: Config, hooks: ServerRuntimeOptions = {}): Promise<RunningServer> {
  const https = readTls(config.server.tls);
  const invalidation = createInvalidation(hooks.bus ?? localBus);
  const metrics = new MetricsRegistry();
  collectDefaultMetrics({ register: metrics });
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
  let app: FastifyInstance;
  try {
    app = Fastify({
      serverFactory: createServerWith(hot, https, {
        limits: connectionLimits(config.server),
        onRefused: (reason) => refusedConnections.inc({ reason }),
      }),
      trustProxy: config.server.trustProxy,
      logger: { level: config.log.level },
      logController: new LogController({ disableRequestLogging: config.log.level !== "debug" }),
    });
  } catch (err) {
    // node:tls parses the PEM here: a wrong file or a key that does not match the certificate ends up in this catch.
    if (!https) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new RegistryError(
      Code.InvalidArgument,
      `server.tls: ${config.server.tls.cert} and ${config.server.tls.key} are not a PEM certificate and its private key (${reason})`,
    );
  }
  const log: FastifyBaseLogger = app.log;
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const store = await metadataDrivers[config.storage.meta.driver](config);
  // Other nodes on the same database hear of this node's writes (and it of theirs) at once, not at the TTL.
  if (store.peers) invalidation.join(store.peers);
  const meta = withMetadataCache(store, { invalidation, mutableTtlMs: config.storage.meta.cacheTtlMs });
  const stored = await blobDrivers[config.storage.blob.driver](config);
  const { cacheBytes, cacheItemBytes } = config.storage.blob;
  const corruptBlobs = new Counter({
    name: "protodepot_blob_corrupt_total",
    help: "Blob reads whose bytes did not match the sha256 they are stored under (storage/blob/verify.ts)",
    registers: [metrics],
  });
  // Under the content cache, so a small blob is hashed once, when it is kept, and never again per request.
  const verified = config.storage.blob.verifyReads
    ? withVerification(stored, {
        onCorrupt: (blob) => {
          corruptBlobs.inc();
          log.error(blob, "blob corrupt");
        },
      })
    : stored;
  const blobs = withContentCache(verified, { maxBytes: cacheBytes, maxItemBytes: cacheItemBytes });
  // Every buf run over pushed content (ours and buf's Upload, build and checks) shares these sandboxed slots.
  const bufRunner = createBufRunner({ ...config.compile, buf: defaultBuf(), log });
  const compiler = createBufCompiler({ runner: bufRunner });
  const auth = createAuthService(meta, { log });
  const access = createAccessPolicy(meta, { anonymousRead: config.auth.anonymousRead });
  const defaultVisibility = config.defaults.visibility;
  const orgs = createOrganizationService(meta, {
    access,
    allowOrgCreation: config.auth.allowOrgCreation,
    maxOrgsPerUser: config.auth.maxOrgsPerUser,
  });
  const modules = createModuleService({
    meta,
    blobs,
    compiler,
    checker: createBufChecker({ runner: bufRunner }),
    access,
    limits: config.limits,
    defaultVisibility,
    // Every push path (ours, buf's Upload) starts the subscribed generations in the background.
    onCommitted: (principal, commit) => pregenerate.afterPush(principal, commit),
  });
  const protoc = await detectProtoc();
  const plugins = createPluginService(meta, { access, defaultVisibility, protoc });
  const templates = createTemplateService(meta, plugins, { access, defaultVisibility });
  const sandbox = createSandbox({ ...config.plugins, ...config.sandbox, log });
  const images = createImageService({ blobs, plugins, limits: config.oci });
  const rootfsDir = chooseRootfsDir({
    configured: config.oci.rootfsDir,
    dataDir: config.dataDir,
    sandboxUid: sandbox.hostUid,
  });
  const runtime = createRuntimeByKind({
    host: createHostRuntime(sandbox),
    protoc: createProtocRuntime(sandbox, protoc),
    oci: createOciRuntime({
      sandbox,
      blobs,
      log,
      rootfs: createRootfsCache({
        dir: rootfsDir.dir,
        maxBytes: config.oci.rootfsCacheBytes,
        limits: { maxBytes: config.oci.maxUnpackedBytes, maxEntries: config.oci.maxLayerEntries },
        timeoutMs: config.oci.unpackTimeoutMs,
      }),
    }),
  });
  // One set of plugin-run slots for every path that runs plugins: artifacts and buf's remote plugins.
  const scheduler = createFairScheduler(pluginSlots(config.plugins));
  // Maven jars are compiled on the server, by the JDK inside the same sandbox and limits as plugins.
  const javac = createJavaCompiler({ sandbox, java: config.maven.java });
  const generation = createGenerationService({
    meta,
    blobs,
    modules,
    templates,
    generator: createArtifactGenerator({
      meta,
      blobs,
      runtime,
      limits: config.plugins,
      scheduler,
      metrics,
      log,
      lease: {
        holder: `${hostname()}/${process.pid}/${randomBytes(4).toString("hex")}`,
        ttlMs: config.storage.meta.leaseTtlMs,
      },
    }),
    packagers: [
      archivePackager,
      npmPackager,
      goPackager,
      pypiPackager,
      createMavenPackager({
        compiler: javac,
        groupId: config.maven.groupId,
        runtimeRepository: config.maven.runtimeRepository,
      }),
    ],
    goHost: config.go.host,
    npmScope: config.npm.scope,
    smallBlobs: blobs,
    invalidation,
    resolutionTtlMs: config.storage.meta.cacheTtlMs,
  });
  const remotePlugins = createRemotePluginService({
    plugins,
    runtime,
    scheduler,
    output: {
      maxFiles: config.plugins.maxFiles,
      maxOutputBytes: config.plugins.maxOutputBytes,
      maxInsertions: config.plugins.maxInsertions,
    },
    maxImageFiles: config.limits.maxFiles,
    maxRequests: maxRemotePluginsPerCall,
    metrics: createGenerateMetrics(metrics),
    log,
    payers: createPayers(meta),
  });
  const pregenerate = createPregenerateService({ meta, access, modules, templates, generation, log });

  const health = createHealthCheck({
    meta,
    blobs,
    timeoutMs: 2000,
    log,
    sandbox,
    storage: storageProbe(config),
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

  // Connect reads request bodies itself: size and caller are checked before it does.
  const maxBody = config.limits.maxUploadBytes;
  registerApiGuards(app, { auth, maxBodyBytes: maxBody });
  await app.register(fastifyConnectPlugin, {
    // Outermost first: every failure, the caller's authentication included, leaves as a Connect error.
    interceptors: [errorInterceptor, authInterceptor],
    readMaxBytes: maxBody,
    contextValues: (request) => createContextValues().set(principalKey, () => principalOf(auth, request)),
    routes: (router) => {
      router.service(UserService, createUserServiceImpl(createUserService(meta, auth)));
      router.service(OrganizationService, createOrganizationServiceImpl(orgs, pregenerate));
      router.service(ModuleService, createModuleServiceImpl(modules, pregenerate));
      router.service(PluginService, createPluginServiceImpl(plugins));
      router.service(TemplateService, createTemplateServiceImpl(templates));
      router.service(
        ServerService,
        createServerServiceImpl({ npmScope: config.npm.scope, goHost: config.go.host }, access),
      );
      registerBufServices(router, { modules, remotePlugins });
      withClientStatuses(router, maxBody);
    },
  });
  registerBufOAuthFallback(app);
  registerRegistry(app, auth, sourcesRegistry(modules), { hot });
  registerRegistry(app, auth, archiveRegistry(generation), { hot });
  registerRegistry(app, auth, goproxyRegistry(generation, { goHost: config.go.host }), { hot });
  registerRegistry(app, auth, ociRegistry(images, { maxManifestBytes: config.oci.maxManifestBytes }));
  // Abandoned uploads go after oci.uploadTtlMs; checked a few times per TTL, never holding the process open.
  const sweep = () =>
    images.sweepUploads().then(
      (removed) => removed && log.info({ removed }, "abandoned uploads removed"),
      (err: unknown) => log.warn({ err }, "upload sweep failed"),
    );
  const sweeper = setInterval(sweep, Math.max(1000, Math.floor(config.oci.uploadTtlMs / 4)));
  sweeper.unref();
  void sweep();
  registerRegistry(
    app,
    auth,
    npmRegistry(generation, {
      modules,
      scope: config.npm.scope,
      publicUrl: config.server.publicUrl,
      onBackgroundError: (err: unknown) => log.warn({ err }, "npm background generation failed"),
      invalidation,
    }),
    { hot },
  );
  registerRegistry(
    app,
    auth,
    pypiRegistry(
      createPypiCatalog({
        generation,
        modules,
        templates,
        onBackgroundError: (err: unknown) => log.warn({ err }, "pypi background generation failed"),
        invalidation,
      }),
    ),
    { hot },
  );

  registerRegistry(
    app,
    auth,
    mavenRegistry(generation, {
      modules,
      groupId: config.maven.groupId,
      onBackgroundError: (err: unknown) => log.warn({ err }, "maven background generation failed"),
      invalidation,
    }),
    { hot },
  );

  registerWebUi(
    app,
    { modules, plugins, templates, orgs },
    {
      auth,
      goHost: config.go.host,
      npmScope: config.npm.scope,
      mavenGroupId: config.maven.groupId,
      publicUrl: config.server.publicUrl,
      secureCookie: https !== undefined || (config.server.publicUrl?.startsWith("https:") ?? false),
    },
  );

  const setup = hooks.setup ?? true;
  // Nodes sharing one database take turns at setup (a lease), and each step is idempotent on its own.
  const admin: { secret?: string } = !setup
    ? {}
    : await withStartupLease(
        meta,
        async () => {
          const admin = await auth.ensureAdmin(config.adminToken);
          await keepInitialAdminToken(config, auth, admin.secret);
          if (admin.secret) hooks.onInitialAdminToken?.(admin.secret, initialAdminTokenFile(config));
          const adminUser = await meta.getUserByName("admin");
          if (config.builtinPlugins && adminUser) {
            const names = await registerBuiltins(adminUser, { orgs, plugins, templates }, { protoc });
            log.info({ templates: names }, "built-in templates ready");
          }
          if (config.demo) await seedDemo({ modules, orgs }, meta, log);
          return admin;
        },
        { onWait: () => log.info("waiting for another node's start-up setup") },
      );

  await app.listen({ host: config.server.host, port: config.server.port });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : config.server.port;
  const url =
    config.server.publicUrl ??
    `${https ? "https" : "http"}://${config.server.host.includes(":") ? `[${config.server.host}]` : config.server.host}:${port}`;
  log.info({ url }, "protodepot listening");

  return {
    app,
    url,
    ...(admin.secret ? { adminToken: admin.secret } : {}),
    async close() {
      clearInterval(sweeper);
      await app.close();
      await pregenerate.close();
      await meta.close();
      sandbox.close();
      bufRunner.close();
      javac.close();
      if (rootfsDir.temporary) await rm(rootfsDir.dir, { recursive: true, force: true });
      stored.close?.();
    },
  };
}

export { formatFsckSummary };

/**
 * `protodepot fsck`: opens the configured storage as `serve` does (no listener, no plugins) and checks it. Safe beside
 * running nodes: it removes only unreferenced things older than `storage.blob.orphanGraceMs`, and damaged artifact
 * records, which serving nodes regenerate on the next request.
 */
export async function checkStorage(
  config: Config,
  opts: { repair: boolean; progress?: (line: string) => void },
): Promise<FsckReport> {
  const meta = await metadataDrivers[config.storage.meta.driver](config);
  try {
    const blobs = await blobDrivers[config.storage.blob.driver](config);
    try {
      return await runFsck({
        meta,
        blobs,
        repair: opts.repair,
        graceMs: config.storage.blob.orphanGraceMs,
        leaseGraceMs: config.storage.meta.leaseTtlMs,
        ...(opts.progress ? { progress: opts.progress } : {}),
      });
    } finally {
      blobs.close?.();
    }
  } finally {
    await meta.close();
  }
}
