// What runs code on the server's behalf: buf over pushed content, plugins (host commands, protoc's generators,
// pushed images) and javac, all in the sandbox, and the fair scheduler their runs share.
import { rm } from "node:fs/promises";
import type { FastifyBaseLogger } from "fastify";
import { createBufChecker, type SchemaChecker } from "../compile/buf-checks.js";
import { type Compiler, createBufCompiler, defaultBuf } from "../compile/buf-compiler.js";
import { createBufRunner } from "../compile/buf-runner.js";
import type { Config } from "../config/schema.js";
import { createJavaCompiler, type JavaCompiler } from "../generate/java/javac.js";
import { createFairScheduler, type FairScheduler } from "../generate/wrappers.js";
import { createHostRuntime } from "../plugins/host/host-runtime.js";
import { createOciRuntime } from "../plugins/oci/oci-runtime.js";
import { createRootfsCache } from "../plugins/oci/rootfs-cache.js";
import { chooseRootfsDir } from "../plugins/oci/rootfs-dir.js";
import { createProtocRuntime, detectProtoc, type Protoc } from "../plugins/protoc/protoc-runtime.js";
import { createRuntimeByKind, type PluginRuntime } from "../plugins/runtime.js";
import { createSandbox, type Sandbox } from "../plugins/sandbox/sandbox.js";
import { pluginSlots } from "../services/artifact-generator.js";
import type { BlobStore } from "../storage/blob/blob-store.js";
import type { Shutdown } from "./shutdown.js";

export interface Execution {
  /** buf build of pushed modules. */
  compiler: Compiler;
  /** buf lint and buf breaking of pushed modules. */
  checker: SchemaChecker;
  /** The server's protoc, when installed: runs protoc's built-in generators. */
  protoc: Protoc | undefined;
  sandbox: Sandbox;
  /** Every kind of plugin source, run in the sandbox. */
  runtime: PluginRuntime;
  /** One set of plugin-run slots for every path that runs plugins: artifacts and buf's remote plugins. */
  scheduler: FairScheduler;
  /** Maven jars are compiled on the server, by the JDK inside the same sandbox and limits as plugins. */
  javac: JavaCompiler;
}

export interface ExecutionParts {
  /** Where pushed plugin images' layers are read from. */
  blobs: BlobStore;
  log: FastifyBaseLogger;
  shutdown: Shutdown;
}

export async function startExecution(config: Config, parts: ExecutionParts): Promise<Execution> {
  const { blobs, log, shutdown } = parts;
  // Every buf run over pushed content (ours and buf's Upload, build and checks) shares these sandboxed slots.
  const bufRunner = createBufRunner({ ...config.compile, buf: defaultBuf(), log });
  shutdown.add("execution", () => bufRunner.close());
  const protoc = await detectProtoc();
  const sandbox = createSandbox({ ...config.plugins, ...config.sandbox, log });
  shutdown.add("execution", () => sandbox.close());
  const rootfsDir = chooseRootfsDir({
    configured: config.oci.rootfsDir,
    dataDir: config.dataDir,
    sandboxUid: sandbox.hostUid,
  });
  if (rootfsDir.temporary)
    shutdown.add("execution", () => rm(rootfsDir.dir, { recursive: true, force: true }));
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
  const javac = createJavaCompiler({ sandbox, java: config.maven.java });
  shutdown.add("execution", () => javac.close());
  return {
    compiler: createBufCompiler({ runner: bufRunner }),
    checker: createBufChecker({ runner: bufRunner }),
    protoc,
    sandbox,
    runtime,
    scheduler: createFairScheduler(pluginSlots(config.plugins)),
    javac,
  };
}
