// The one typed configuration of the server, with defaults. Sources: file (YAML/JSON) < env PROTODEPOT_… < flags.
import { z } from "zod";

const mib = 1024 * 1024;

const orgRole = z.strictObject({ org: z.string().min(1), role: z.enum(["owner", "writer", "reader"]) });

/** One OpenID Connect provider people sign in with (docs/sso.md). */
export const oidcIssuerSchema = z.strictObject({
  /** Names the provider in URLs (/auth/oidc/{name}/…) and for `login --sso --issuer`: lowercase letters, digits, `-`. */
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, "use 1-32 lowercase letters, digits and '-', e.g. 'okta'"),
  /** What the login page says: "Sign in with {displayName}". Default: the name. */
  displayName: z.string().min(1).max(64).optional(),
  /** The issuer URL; its /.well-known/openid-configuration is read at the first sign-in. */
  issuer: z.url(),
  clientId: z.string().min(1),
  /** Absent: a public client (PKCE alone). Keep it out of files: PROTODEPOT_AUTH_OIDC takes the whole list as JSON. */
  clientSecret: z.string().min(1).optional(),
  /** Scopes asked for beside `openid`. */
  scopes: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/)).default(["profile", "email"]),
  /** The claim that names the user (validated by the owner-name rules). */
  usernameClaim: z.string().min(1).default("preferred_username"),
  /** The claim that lists the user's groups (an array of strings). */
  groupsClaim: z.string().min(1).default("groups"),
  /** Group → the organization role(s) its members get; leaving the group takes them back at the next sign-in. */
  orgMapping: z.record(z.string(), z.union([orgRole, z.array(orgRole)])).default({}),
  /** A username that is already a local person's links the account to that user at its first sign-in. */
  linkExistingUsers: z.boolean().default(false),
  /** Lifetime of the token `protodepot login --sso` gets, in days (auth.maxTokenLifetimeDays caps it too). */
  cliTokenLifetimeDays: z.number().int().min(1).max(3650).default(30),
  /** Allow an http:// issuer (tests, a provider on loopback). Never on for a provider across a network. */
  allowInsecureIssuer: z.boolean().default(false),
});
export type OidcIssuerConfig = z.infer<typeof oidcIssuerSchema>;

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
      /**
       * A second port speaking cleartext HTTP/2 (h2c, prior knowledge) for gRPC clients and gRPC server reflection
       * (`buf curl --protocol grpc --http2-prior-knowledge`): the same API, tokens and limits. Off when unset;
       * 0 picks a free port (docs/deploy.md).
       */
      h2cPort: z.number().int().min(0).max(65535).optional(),
      /** The URL clients reach this server at; defaults to http(s)://{host}:{port}. */
      publicUrl: z.url().optional(),
      /** Processes serving requests on the one port (node:cluster); `auto` is one per core. */
      workers: z.union([z.number().int().min(1).max(256), z.literal("auto")]).default(1),
      /**
       * Honour X-Forwarded-Proto/-Host/-For from a reverse proxy (URLs in npm packuments, client addresses):
       * `true` trusts any sender, a string names trusted addresses or CIDRs ("127.0.0.1,::1"). Off by default,
       * since without a proxy anyone could set them. `publicUrl`, when set, wins for the URLs.
       */
      trustProxy: z.union([z.boolean(), z.string().min(1)]).default(false),
      /**
       * Connections this process holds at once; past it a new one is closed at once. `auto`: the process's
       * open-file limit less a fifth (at least 512) for its own files, at most 16384 (docs/deploy.md). 0: no limit.
       */
      maxConnections: z.union([z.number().int().min(0), z.literal("auto")]).default("auto"),
      /** Connections one client address (an IPv6 /64) holds at once per process; past it, closed at once. 0: no limit. */
      maxConnectionsPerAddress: z.number().int().min(0).default(256),
      /** Longest wait for a request's headers, and for the TLS handshake. */
      headersTimeoutMs: z.number().int().min(100).default(20_000),
      /** Longest wait for a whole request, body included (uploads: size / slowest link). 0: no limit. */
      requestTimeoutMs: z.number().int().min(0).default(600_000),
      /** Longest silence of a client while it sends a body or reads an answer. 0: no limit. */
      idleTimeoutMs: z.number().int().min(0).default(30_000),
      /** Longest wait for the next request on a kept-alive connection (above a load balancer's idle timeout). */
      keepAliveTimeoutMs: z.number().int().min(0).default(72_000),
      /** Who may read GET /metrics: `admin` (an admin token), `public` (anyone), or `off` (no route). */
      metrics: z.enum(["admin", "public", "off"]).default("admin"),
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
      /** Organizations a non-admin user may own (creating one more is refused); admins are not limited. */
      maxOrgsPerUser: z.number().int().nonnegative().default(10),
      /**
       * The longest a new token may live, in days; a token asked for without an expiry gets this one. 0: no
       * maximum (tokens may never expire). Web sessions live 12 hours whatever this says (docs/tokens.md).
       */
      maxTokenLifetimeDays: z.number().int().nonnegative().max(3650).default(0),
      /**
       * People may sign in to the web UI with a token. False: only through auth.oidc providers; tokens still work
       * for the API, the CLI and package clients.
       */
      localSignIn: z.boolean().default(true),
      /** OpenID Connect providers people sign in with (docs/sso.md); env: PROTODEPOT_AUTH_OIDC as a JSON array. */
      oidc: z
        .array(oidcIssuerSchema)
        .max(16)
        .refine((list) => new Set(list.map((i) => i.name)).size === list.length, {
          message: "every auth.oidc entry needs its own name",
        })
        .default([]),
    })
    .refine((a) => a.localSignIn || a.oidc.length > 0, {
      message:
        "auth.localSignIn: false needs at least one auth.oidc provider, or nobody could sign in to the web UI",
    })
    .prefault({}),
  rateLimits: z
    .strictObject({
      /** The window requests are counted in. */
      windowMs: z.number().int().min(1000).default(60_000),
      /**
       * Requests per window of one client address without a valid token (refused credentials count here too);
       * 0: unlimited. Counted per node (docs/tokens.md).
       */
      anonymous: z.number().int().nonnegative().default(0),
      /** Requests per window of one token of a person; 0: unlimited. */
      user: z.number().int().nonnegative().default(0),
      /** Requests per window of one token of a bot; 0: unlimited. */
      bot: z.number().int().nonnegative().default(0),
      /** Requests per window of one token of an admin; 0: unlimited. */
      admin: z.number().int().nonnegative().default(0),
      /**
       * Counts in the metadata store, so the limits hold across every node sharing it; absent: on when the
       * metadata driver is postgres (docs/tokens.md).
       */
      shared: z.boolean().optional(),
      /**
       * With shared counts: requests a node may admit before it adds them to the shared count, as a percentage of
       * the limit (at least 1 request). The nodes together may admit up to that many per other node past a limit.
       */
      sharedSlackPercent: z.number().min(0).max(50).default(5),
      /** Cold generations (a download that had to generate its artifact) per window, by role; 0: unlimited. */
      generations: z
        .strictObject({
          anonymous: z.number().int().nonnegative().default(0),
          user: z.number().int().nonnegative().default(0),
          bot: z.number().int().nonnegative().default(0),
          admin: z.number().int().nonnegative().default(0),
        })
        .prefault({}),
    })
    .prefault({}),
  webhooks: z
    .strictObject({
      /**
       * Lets subscriptions target loopback, link-local, private and multicast addresses (docs/webhooks.md). Off:
       * such targets are refused at creation and at every delivery.
       */
      allowPrivateTargets: z.boolean().default(false),
      /** Host names, addresses or CIDR ranges allowed even though private (`hooks.internal`, `10.1.0.0/16`). */
      allowedTargets: z
        .union([z.array(z.string().min(1)), z.string()])
        .default([])
        .transform((v) =>
          typeof v === "string"
            ? v
                .split(",")
                .map((x) => x.trim())
                .filter(Boolean)
            : v,
        ),
      /** One attempt's deadline: connecting, sending and the response's headers. */
      timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
      /** Attempts per delivery before it is marked failed. */
      maxAttempts: z.number().int().min(1).max(50).default(8),
      /** The wait after the first failed attempt; doubled after each further one, up to retryMaxMs. */
      retryBaseMs: z.number().int().min(0).default(10_000),
      retryMaxMs: z.number().int().min(0).default(3_600_000),
      /** How often a node looks for due deliveries (a node also looks right after its own changes). */
      pollMs: z.number().int().min(10).default(1000),
      /** Deliveries a node sends at once. */
      concurrency: z.number().int().min(1).max(256).default(8),
      /** Finished deliveries (succeeded or failed) are removed after this many days; 0 keeps them. */
      retentionDays: z.number().int().nonnegative().default(30),
    })
    .prefault({}),
  audit: z
    .strictObject({
      /**
       * false turns the audit log off: nothing is appended and reading it is refused (docs/audit.md). For throwaway
       * servers and for measuring what the log costs.
       */
      enabled: z.boolean().default(true),
      /** Audit events older than this many days are removed (docs/audit.md); 0 keeps them forever. */
      retentionDays: z.number().int().nonnegative().default(365),
      /** Failed sign-ins from one client address are folded into one event per this window. */
      failureWindowMs: z.number().int().min(1000).default(60_000),
    })
    .prefault({}),
  quotas: z
    .strictObject({
      /** Modules one owner may have (deleted ones count: their names stay taken); 0: unlimited (docs/quotas.md). */
      modulesPerOwner: z.number().int().nonnegative().default(0),
      /** Commits the modules of one owner may take in any 24 hours; 0: unlimited. */
      commitsPerOwnerPerDay: z.number().int().nonnegative().default(0),
    })
    .prefault({}),
  /** Deleting modules, plugins and templates (docs/lifecycle.md, "Deletion"). */
  lifecycle: z
    .strictObject({
      /**
       * How long a deleted thing's name stays reserved, in days (fractions allowed), before it may be created again:
       * `forever` for public things by default (clients cached what it served under its versions), 30 days for
       * private ones (only their owner's clients ever saw them).
       */
      quarantineDays: z
        .strictObject({
          public: z.union([z.number().nonnegative(), z.literal("forever")]).default("forever"),
          private: z.union([z.number().nonnegative(), z.literal("forever")]).default(30),
        })
        .prefault({}),
      /**
       * Refuse deleting a module or template whose generated artifacts were served in the last this many days
       * (someone still installs them); 0 turns the check off.
       */
      refuseDeleteIfServedWithinDays: z.number().int().nonnegative().default(0),
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
          /** sqlite: one node, embedded. postgres: any number of nodes sharing one database. */
          driver: z.enum(["sqlite", "postgres"]).default("sqlite"),
          sqlite: z
            .strictObject({
              /** Defaults to {dataDir}/metadata.sqlite. */
              path: z.string().min(1).optional(),
            })
            .prefault({}),
          postgres: z
            .strictObject({
              /** `postgres://user:password@host:5432/database`; required with driver postgres. */
              url: z.string().min(1).optional(),
              /** Connections this node keeps open (plus one that listens for lease notifications). */
              poolSize: z.number().int().positive().default(10),
            })
            .prefault({}),
          /**
           * A node generating an artifact holds a lease on it and renews it every third of this; a node that dies
           * loses it after this long, and another node takes the generation over.
           */
          leaseTtlMs: z.number().int().min(300).default(30_000),
          /**
           * Longest reuse of a module, label or template record read from the store. Writes through this server
           * (any worker) drop them at once; this only bounds how late another node's writes show. 0 = off.
           */
          cacheTtlMs: z.number().int().min(0).default(2000),
        })
        .prefault({}),
      blob: z
        .strictObject({
          /** fs: files under a directory (one node, or a shared filesystem). s3: any S3-compatible object store. */
          driver: z.enum(["fs", "s3"]).default("fs"),
          fs: z
            .strictObject({
              /** Defaults to {dataDir}/blobs. */
              root: z.string().min(1).optional(),
              /** fsync each blob before it becomes visible (durability across power loss, at a cost). */
              fsync: z.boolean().default(true),
            })
            .prefault({}),
          s3: z
            .strictObject({
              /** e.g. http://127.0.0.1:7480 for RadosGW or MinIO; unset = AWS's endpoint for `region`. */
              endpoint: z.url().optional(),
              /** Required with driver s3; must exist. */
              bucket: z.string().min(3).max(63).optional(),
              /** Key prefix inside the bucket ("" = the whole bucket), so one bucket can hold several registries. */
              prefix: z
                .string()
                .regex(
                  /^(?:[A-Za-z0-9._-]+\/)*(?:[A-Za-z0-9._-]+\/?)?$/,
                  "prefix must be '/'-separated safe segments",
                )
                .default(""),
              region: z.string().min(1).default("us-east-1"),
              /** Both or neither; neither = the AWS SDK's default chain (AWS_* env, shared config, instance role). */
              accessKeyId: z.string().min(1).optional(),
              secretAccessKey: z.string().min(1).optional(),
              /** http://endpoint/bucket/key addressing; unset = on when an endpoint is set (most non-AWS servers). */
              forcePathStyle: z.boolean().optional(),
            })
            .prefault({}),
          /** Memory for small immutable blobs (artifacts, sources) served hot; 0 turns the cache off. */
          cacheBytes: z
            .number()
            .int()
            .min(0)
            .default(64 * mib),
          /** Blobs larger than this always stream from storage. */
          cacheItemBytes: z.number().int().positive().default(mib),
          /**
           * Check every read of a content blob against the sha256 it is stored under (a small blob once, when it is
           * kept in memory). Off only for storage that checks every byte itself; a mismatch is then served.
           */
          verifyReads: z.boolean().default(true),
          /** Orphan blobs younger than this are never removed by `fsck --repair` (a push may still reference them). */
          orphanGraceMs: z
            .number()
            .int()
            .min(0)
            .default(60 * 60 * 1000),
        })
        .prefault({}),
    })
    .prefault({})
    .superRefine((storage, ctx) => {
      // Settings a chosen driver cannot start without, reported together with every other problem.
      if (storage.meta.driver === "postgres" && storage.meta.postgres.url === undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["meta", "postgres", "url"],
          message: "required when storage.meta.driver is postgres (PROTODEPOT_STORAGE_META_POSTGRES_URL)",
        });
      }
      const s3 = storage.blob.s3;
      if (storage.blob.driver === "s3" && s3.bucket === undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["blob", "s3", "bucket"],
          message: "required when storage.blob.driver is s3 (PROTODEPOT_STORAGE_BLOB_S3_BUCKET)",
        });
      }
      if ((s3.accessKeyId === undefined) !== (s3.secretAccessKey === undefined)) {
        ctx.addIssue({
          code: "custom",
          path: ["blob", "s3", s3.accessKeyId === undefined ? "accessKeyId" : "secretAccessKey"],
          message:
            "set both accessKeyId and secretAccessKey, or neither to use the AWS SDK's default credentials",
        });
      }
    }),
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
      /** Insertion chunks (files with insertion_point) over every plugin of one generation. */
      maxInsertions: z.number().int().positive().default(10_000),
      /** Plugin runs at once in this process (generations are scheduled fairly across template owners). */
      concurrency: z.number().int().positive().default(4),
      /**
       * Plugin runs at once charged to one payer (a user with the organizations it runs, as caller or as owner of
       * the template or a plugin: docs/serving.md); defaults to concurrency − 1 (at least 1).
       */
      ownerConcurrency: z.number().int().positive().optional(),
      /** Plugin runs at once for every anonymous caller together; defaults to concurrency ÷ 2 (at least 1). */
      anonymousConcurrency: z.number().int().positive().optional(),
      /**
       * A generation that failed for good (a plugin's error, output refused, a timeout) answers with the same
       * error, without running, for this long; each failure in a row doubles it up to failureMemoryMaxMs. 0: off.
       */
      failureMemoryMs: z.number().int().nonnegative().default(5000),
      failureMemoryMaxMs: z.number().int().nonnegative().default(300_000),
    })
    .prefault({}),
  /** How each plugin run's processes and memory are bounded (docs/plugins.md, "Limits on every host"). */
  sandbox: z
    .strictObject({
      /** `auto`: cgroup v2 when its pids and memory controllers are delegated, else v1; `off`: the rlimits fallback. */
      cgroups: z.enum(["auto", "v1", "v2", "off"]).default("auto"),
      /**
       * Without usable cgroups (root server only): each run gets one uid of this range, so RLIMIT_NPROC bounds its
       * processes. Reserve it for protodepot: any process running as one of these uids is killed. Uids listed in
       * /etc/passwd, /etc/group, /etc/subuid or /etc/subgid are skipped. Runs wait when every uid is busy.
       */
      uidRange: z
        .strictObject({
          first: z.number().int().min(1).max(4_294_967_294),
          count: z.number().int().min(1).max(65_536),
        })
        .default({ first: 1_879_048_192, count: 64 }),
      /** RLIMIT_AS of each process under the rlimits fallback (at least plugins.memoryBytes); JVMs reserve ~2 GiB. */
      addressSpaceBytes: z
        .number()
        .int()
        .positive()
        .default(8192 * mib),
      /** Run owner-pushed plugins (images) even when nothing bounds their processes and memory. */
      allowUnbounded: z.boolean().default(false),
    })
    .prefault({}),
  /** buf build / lint / breaking over pushed content: sandboxed like plugins, with limits of their own. */
  compile: z
    .strictObject({
      /** RAM of one buf run, every process of it and its private /tmp (cgroup memory controller). */
      memoryBytes: z
        .number()
        .int()
        .positive()
        .default(2048 * mib),
      /** One buf run; past it the push is refused (422). */
      timeoutMs: z.number().int().positive().default(60_000),
      /** buf runs at once in this process (each may use memoryBytes). */
      concurrency: z.number().int().positive().default(2),
      /** buf runs at once for one pusher, so one user's pushes cannot hold every slot. */
      perPusher: z.number().int().positive().default(1),
      /** Largest compiled image (buf's stdout); past it the push is refused (413). */
      maxImageBytes: z
        .number()
        .int()
        .positive()
        .default(256 * mib),
      /** Run buf without bwrap when bwrap is missing (still in the memory cgroup, with the other limits). */
      allowUnsandboxed: z.boolean().default(false),
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
      /** Time to unpack one image's layers (a cold run waits for it, on top of plugins.timeoutMs). */
      unpackTimeoutMs: z.number().int().positive().default(60_000),
      /**
       * Bytes one owner's plugin images may hold (distinct blobs and manifests, plus its open uploads); 0: unlimited.
       * The default: an admin may set an owner's own (docs/quotas.md).
       */
      ownerQuotaBytes: z
        .number()
        .int()
        .nonnegative()
        .default(8192 * mib),
      /** Image plugin versions (pushed tags) one owner may hold; 0: unlimited. The default, as above. */
      ownerQuotaImages: z.number().int().nonnegative().default(200),
      /** Uploads one user may have open at once. */
      maxOpenUploadsPerUser: z.number().int().positive().default(8),
      /** Bytes of one user's open uploads together. */
      maxOpenUploadBytesPerUser: z
        .number()
        .int()
        .positive()
        .default(2048 * mib),
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
  maven: z
    .strictObject({
      /** groupId of generated artifacts; their path in the repository is /maven/{groupId with / for .}/…. */
      groupId: z
        .string()
        .max(128)
        .regex(
          /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/,
          "maven groupId must be dot-separated segments of letters, digits, '_' or '-' (e.g. protodepot.gen)",
        )
        .default("protodepot.gen"),
      /**
       * A local Maven repository (directory layout) holding the jars of plugins' Maven runtime libraries, which
       * generated code is compiled against. Debian's libprotobuf-java installs protobuf-java here.
       */
      runtimeRepository: z.string().min(1).default("/usr/share/maven-repo"),
      /** The JDK's `java` launcher that compiles jars (inside the plugin sandbox): a command on PATH or a path. */
      java: z.string().min(1).default("java"),
    })
    .prefault({}),
  health: z
    .strictObject({
      /**
       * GET /healthz lists `low free space` under `degraded` when a local data directory has less free space than
       * this (statfs; fs and sqlite drivers). 0: not checked.
       */
      minFreeBytes: z
        .number()
        .int()
        .min(0)
        .default(1024 * mib),
      /**
       * GET /healthz answers the latest round of probes (stores, write probe, free space) and starts the next one
       * when this old; 0: every request probes. Probing per request queued file operations behind a busy node's
       * gzip and hashing work on libuv's thread pool, and let any caller make the node write files.
       */
      probeIntervalMs: z.number().int().min(0).default(1000),
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
