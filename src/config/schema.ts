// The one typed configuration of the server, with defaults. Sources: file (YAML/JSON) < env PROTODEPOT_… < flags.
import { z } from "zod";

const mib = 1024 * 1024;

export const configSchema = z.strictObject({
  /** Where the embedded drivers keep their files. */
  dataDir: z.string().min(1).default(".protodepot"),
  /** Ensures an admin user `admin` holding this token at every start (for scripted deployments). */
  adminToken: z.string().min(16, "adminToken must be at least 16 characters").optional(),
  /** Push the demo modules from examples/ on first start. */
  demo: z.boolean().default(false),
  /** Register the code generators found on this machine (protoc-gen-es always; protoc-gen-go/-go-grpc on PATH). */
  builtinPlugins: z.boolean().default(true),
  server: z
    .strictObject({
      host: z.string().default("127.0.0.1"),
      port: z.number().int().min(0).max(65535).default(8080),
      /** The URL clients reach this server at; defaults to http(s)://{host}:{port}. */
      publicUrl: z.url().optional(),
      /** Serve https with this PEM certificate (chain) and private key; both or neither. */
      tls: z
        .strictObject({
          cert: z.string().min(1).optional(),
          key: z.string().min(1).optional(),
        })
        .refine((t) => (t.cert === undefined) === (t.key === undefined), {
          message:
            "set both server.tls.cert and server.tls.key (or neither): https needs the certificate and its key",
        })
        .prefault({}),
    })
    .prefault({}),
  auth: z
    .strictObject({
      /** Reads without a token (public things only). False: every read needs a valid token. */
      anonymousRead: z.boolean().default(true),
      /** Any user may create organizations; false: only admins. */
      allowOrgCreation: z.boolean().default(true),
    })
    .prefault({}),
  defaults: z
    .strictObject({
      /** Visibility of modules, plugins and templates created without one. */
      visibility: z.enum(["public", "private"]).default("public"),
    })
    .prefault({}),
  storage: z
    .strictObject({
      meta: z
        .strictObject({
          driver: z.enum(["sqlite"]).default("sqlite"),
          /** Defaults to {dataDir}/metadata.sqlite. */
          sqlitePath: z.string().optional(),
        })
        .prefault({}),
      blob: z
        .strictObject({
          driver: z.enum(["fs"]).default("fs"),
          /** Defaults to {dataDir}/blobs. */
          fsRoot: z.string().optional(),
          /** fsync each blob before it becomes visible (durability across power loss, at a cost). */
          fsync: z.boolean().default(true),
          /** Memory for small immutable blobs (artifacts, sources) served hot; 0 turns the cache off. */
          cacheBytes: z
            .number()
            .int()
            .min(0)
            .default(64 * mib),
          /** Blobs larger than this always stream from storage. */
          cacheItemBytes: z.number().int().positive().default(mib),
        })
        .prefault({}),
    })
    .prefault({}),
  limits: z
    .strictObject({
      /** Largest accepted push request body. Larger → 413. */
      maxUploadBytes: z
        .number()
        .int()
        .positive()
        .default(32 * mib),
      /** Most files in one module. */
      maxFiles: z.number().int().positive().default(10_000),
      /** Largest single file in a module. */
      maxFileBytes: z
        .number()
        .int()
        .positive()
        .default(4 * mib),
    })
    .prefault({}),
  plugins: z
    .strictObject({
      /** Run host-command plugins without bwrap when bwrap is missing (never for pushed images). */
      allowUnsandboxed: z.boolean().default(false),
      timeoutMs: z.number().int().positive().default(60_000),
      /** RAM of one run: every process of it and the pages of its /tmp (cgroup memory controller). */
      memoryBytes: z
        .number()
        .int()
        .positive()
        .default(2048 * mib),
      /** Size of each run's private /tmp; its pages count against memoryBytes too. */
      tmpBytes: z
        .number()
        .int()
        .positive()
        .default(256 * mib),
      /** Processes and threads of one run at once (cgroup pids controller). */
      maxProcesses: z.number().int().positive().default(256),
      maxOutputBytes: z
        .number()
        .int()
        .positive()
        .default(64 * mib),
      maxFiles: z.number().int().positive().default(10_000),
      /** Plugin runs at once in this process (generations are scheduled fairly across template owners). */
      concurrency: z.number().int().positive().default(4),
      /** Generations at once for one template owner; defaults to concurrency − 1 (at least 1). */
      ownerConcurrency: z.number().int().positive().optional(),
    })
    .prefault({}),
  oci: z
    .strictObject({
      /** Largest image blob (layer, config) a push may upload. */
      maxBlobBytes: z
        .number()
        .int()
        .positive()
        .default(1024 * mib),
      /** Largest manifest or index. */
      maxManifestBytes: z
        .number()
        .int()
        .positive()
        .default(4 * mib),
      /** Uploads untouched for this long are removed. */
      uploadTtlMs: z
        .number()
        .int()
        .positive()
        .default(60 * 60 * 1000),
      /**
       * Where unpacked image roots are cached: {dataDir}/oci-rootfs when the sandbox user (nobody) can reach it,
       * else a directory in the system temp dir. Every ancestor must be searchable (o+x) by that user.
       */
      rootfsDir: z.string().optional(),
      /** Disk for unpacked image roots; the least recently used are removed past it. */
      rootfsCacheBytes: z
        .number()
        .int()
        .positive()
        .default(4096 * mib),
      /** Largest unpacked image (file contents over all layers). */
      maxUnpackedBytes: z
        .number()
        .int()
        .positive()
        .default(2048 * mib),
      /** Most entries over all layers of one image. */
      maxLayerEntries: z.number().int().positive().default(200_000),
    })
    .prefault({}),
  go: z
    .strictObject({
      /** First element of generated Go module paths: must contain a dot and no port. */
      host: z
        .string()
        .regex(
          /^[a-z0-9][a-z0-9.-]*\.[a-z0-9.-]*[a-z0-9]$/,
          "go host must be a domain-like name with a dot and no port",
        )
        .default("protodepot.local"),
    })
    .prefault({}),
  npm: z
    .strictObject({
      /** npm scope of generated packages, without "@". */
      scope: z
        .string()
        .regex(/^[a-z0-9][a-z0-9._-]*$/, "npm scope must be lowercase letters, digits, '.', '_' or '-'")
        .default("protodepot"),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    })
    .prefault({}),
});

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
