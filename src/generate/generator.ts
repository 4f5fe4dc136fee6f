// The generation engine behind one small interface, so behaviour (singleflight, cache, limits) composes by wrapping.
import { createHash } from "node:crypto";
import type { PluginRuntime } from "../plugins/runtime.js";
import type { GenerateMetrics } from "./metrics.js";
import type { OutputLimits } from "./output.js";
import { type GeneratedFile, type PluginInvocation, runPlugins } from "./run-plugins.js";

/** A packaged artifact: the bytes one registry serves, plus facts it serves without reading them. */
export interface Packaged {
  bytes: Uint8Array;
  extra: Record<string, string>;
}

/** Everything the engine runs for one artifact. */
export interface PreparedJob {
  /** FileDescriptorSet of the commit (its files and all transitive imports). */
  image: Uint8Array;
  fileToGenerate: string[];
  /** `1.75.0`, or empty to leave compiler_version unset as local `buf generate` does. */
  compilerVersion: string;
  /** In template order. */
  plugins: PluginInvocation[];
  package(files: readonly GeneratedFile[]): Promise<Packaged>;
}

export interface GenerationJob {
  /** A stable id of what is generated: what singleflight and failure memory key on (never parsed back). */
  key: string;
  /** The template's owner: generations are scheduled fairly across owners. */
  owner: string;
  /**
   * Who the run is charged to when it takes a plugin slot (the caller, the template's and the plugins' owners, each
   * as the account that pays for it: services/payers.ts); without it, `owner` alone.
   */
  payers?: readonly string[];
  /**
   * Builds the inputs. Called only when a generation really runs: a cache hit or a joined flight never reads the
   * image or resolves plugins.
   */
  prepare(): Promise<PreparedJob>;
  /**
   * Nobody waits on it (warming, pre-generation after a push): it yields to every waiting request and leaves one
   * slot of the concurrency limit free for them.
   */
  background?: boolean;
}

export interface GenerationResult {
  key: string;
  bytes: Uint8Array;
  /** `sha256:` + hex of `bytes`. */
  digest: string;
  size: number;
  extra: Record<string, string>;
  /** How many files the plugins generated. */
  fileCount: number;
}

/** `J`: the jobs it takes; a job that carries more (an artifact's typed key) keeps its type through the wrappers. */
export interface Generator<R = GenerationResult, J extends GenerationJob = GenerationJob> {
  generate(job: J, signal?: AbortSignal): Promise<R>;
}

export type Wrapper<R = GenerationResult, J extends GenerationJob = GenerationJob> = (
  g: Generator<R, J>,
) => Generator<R, J>;

/** `compose(base, a, b)` is `b(a(base))`: the first wrapper sits next to the engine, the last sees calls first. */
export function compose<R, J extends GenerationJob = GenerationJob>(
  base: Generator<R, J>,
  ...wrappers: readonly Wrapper<R, J>[]
): Generator<R, J> {
  return wrappers.reduce((g, wrap) => wrap(g), base);
}

export interface EngineOptions {
  runtime: PluginRuntime;
  limits: OutputLimits;
  /** How long merging a generation's plugin output may take (plugins.timeoutMs). */
  mergeDeadlineMs?: number;
  metrics?: GenerateMetrics;
}

/** The base generator: prepare, run every plugin, package, digest. No caching, no deduplication. */
export function createGenerator(opts: EngineOptions): Generator {
  return {
    async generate(job, signal) {
      const prepared = await job.prepare();
      const files = await runPlugins({
        image: prepared.image,
        fileToGenerate: prepared.fileToGenerate,
        compilerVersion: prepared.compilerVersion,
        plugins: prepared.plugins,
        runtime: opts.runtime,
        limits: opts.limits,
        ...(opts.mergeDeadlineMs ? { mergeDeadlineMs: opts.mergeDeadlineMs } : {}),
        ...(opts.metrics ? { metrics: opts.metrics } : {}),
        ...(signal ? { signal } : {}),
      });
      const { bytes, extra } = await prepared.package(files);
      return {
        key: job.key,
        bytes,
        digest: sha256Digest(bytes),
        size: bytes.length,
        extra,
        fileCount: files.length,
      };
    },
  };
}

export const sha256Digest = (bytes: Uint8Array) =>
  `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
