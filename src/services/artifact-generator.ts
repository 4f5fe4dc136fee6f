// The composed engine of the server: one flight per artifact in this process and one lease per artifact across
// nodes, results published once (blobs first, metadata last), bounded runs scheduled fairly across payers, lasting
// failures remembered for a while.
import type { Registry } from "prom-client";
import type { ArtifactKey, ArtifactRecord } from "../core/types.js";
import { withFailureMemory } from "../generate/failure-memory.js";
import {
  compose,
  createGenerator,
  type GenerationJob,
  type GenerationResult,
  type Generator,
  type Wrapper,
} from "../generate/generator.js";
import { createGenerateMetrics } from "../generate/metrics.js";
import {
  type FairScheduler,
  type GenerationLog,
  type LeaseCoordinator,
  withFairScheduling,
  withLease,
  withLogging,
  withSingleflight,
} from "../generate/wrappers.js";
import type { PluginRuntime } from "../plugins/runtime.js";
import type { BlobStore } from "../storage/blob/blob-store.js";
import { putContent } from "../storage/blob/content.js";
import type { ArtifactStore, Lease, LeaseStore, WebhookStore } from "../storage/meta/metadata-store.js";
import type { Events } from "./events.js";

/** One artifact's generation: the engine's job plus the artifact's typed key, which the lease publishes under. */
export interface ArtifactJob extends GenerationJob {
  artifact: ArtifactKey;
  /** What its `artifact.generated` / `artifact.failed` event names (docs/webhooks.md). */
  event?: { owner: string; target: string; data: Record<string, unknown> };
}

/** The engine's flights and failure memory key on a string: one per artifact (ids never contain "/"). */
export const artifactId = (k: ArtifactKey): string =>
  `${k.templateId}/${k.templateVersion}/${k.commitId}/${k.scope}/${k.flavour}`;

/** Artifact records and the leases that make one generation per artifact, with a transaction over both. */
export type ArtifactLeaseStore = ArtifactStore &
  LeaseStore & {
    transaction<T>(
      fn: (tx: ArtifactStore & LeaseStore & Partial<Pick<WebhookStore, "enqueueWebhookEvent">>) => Promise<T>,
    ): Promise<T>;
  };

export interface ArtifactGeneratorOptions {
  meta: ArtifactLeaseStore;
  blobs: BlobStore;
  runtime: PluginRuntime;
  limits: {
    maxFiles: number;
    maxOutputBytes: number;
    /** plugins.maxInsertions. */
    maxInsertions?: number | undefined;
    /** plugins.timeoutMs: also the deadline of merging a generation's output. */
    timeoutMs?: number | undefined;
    concurrency: number;
    /** Defaults to concurrency − 1 (at least 1). */
    ownerConcurrency?: number | undefined;
    /** Defaults to concurrency ÷ 2 (at least 1). */
    anonymousConcurrency?: number | undefined;
    /** How long a lasting failure is answered from memory, first and at most; 0 or absent: not at all. */
    failureMemoryMs?: number | undefined;
    failureMemoryMaxMs?: number | undefined;
  };
  metrics: Registry;
  log: GenerationLog;
  lease: ArtifactLeaseOptions;
  /**
   * The plugin-run slots, shared with every other path that runs plugins (buf's remote plugins); without one the
   * generator makes its own from `limits`.
   */
  scheduler?: FairScheduler;
  /** Told of every generation's outcome (what the web UI offers depends on it). */
  outcomes?: Wrapper<ArtifactRecord, ArtifactJob>;
  /** Where generations and failures are told (once per artifact and run, by the node that ran it). */
  events?: Events;
}

export interface ArtifactLeaseOptions {
  /** This process, unique among every node sharing the database. */
  holder: string;
  /** A holder that stops renewing (it died) loses its lease after this long; another node then takes over. */
  ttlMs: number;
}

/**
 * Artifact leases: the lease key is the artifact key, the published result its record. Publishing writes the blob
 * first (content-addressed, so a stale holder's identical bytes are harmless), then the record and the release
 * in one transaction: a lost lease rolls the record back.
 */
export function createArtifactLeases(
  meta: ArtifactLeaseStore,
  blobs: BlobStore,
  opts: ArtifactLeaseOptions & { events?: Events | undefined },
): LeaseCoordinator<ArtifactRecord, Lease, ArtifactJob> {
  const leaseKey = (job: ArtifactJob) => `artifact:${artifactId(job.artifact)}`;
  return {
    get: (job) => meta.getArtifact(job.artifact),
    acquire: (job) => meta.acquireLease(leaseKey(job), opts.holder, opts.ttlMs),
    renew: (lease) => meta.renewLease(lease, opts.ttlMs),
    async publish(lease, result, job) {
      const stored = await putContent(blobs, result.bytes);
      return meta.transaction(async (tx) => {
        if (!(await tx.releaseLease(lease))) return undefined;
        const record = await tx.putArtifact({
          ...job.artifact,
          blob: stored.key,
          digest: stored.digest,
          size: stored.size,
          extra: result.extra,
        });
        // With the record, in its transaction: one event per artifact, whichever node generated it.
        if (opts.events && job.event && tx.enqueueWebhookEvent) {
          const { enqueueWebhookEvent } = tx;
          const { owner, target, data } = job.event;
          const published = { ...data, digest: stored.digest, size: stored.size };
          await opts.events.emit(
            "artifact.generated",
            { owner, target, data: published },
            { enqueueWebhookEvent },
          );
        }
        return record;
      });
    },
    async release(lease) {
      await meta.releaseLease(lease);
    },
    wait: (job, signal) => meta.waitForLease(leaseKey(job), opts.ttlMs, signal),
  };
}

export function createArtifactGenerator(
  opts: ArtifactGeneratorOptions,
): Generator<ArtifactRecord, ArtifactJob> {
  const engine = createGenerator({
    runtime: opts.runtime,
    limits: {
      maxFiles: opts.limits.maxFiles,
      maxOutputBytes: opts.limits.maxOutputBytes,
      ...(opts.limits.maxInsertions ? { maxInsertions: opts.limits.maxInsertions } : {}),
    },
    ...(opts.limits.timeoutMs ? { mergeDeadlineMs: opts.limits.timeoutMs } : {}),
    metrics: createGenerateMetrics(opts.metrics),
  });
  // Singleflight outermost so concurrent first requests in this process share one flight and one lease; the
  // lease inside it so only one node generates, and a request arriving just after a flight lands reads the record.
  const leased = withLease(
    createArtifactLeases(opts.meta, opts.blobs, { ...opts.lease, events: opts.events }),
    {
      heartbeatMs: Math.max(50, Math.floor(opts.lease.ttlMs / 3)),
    },
  )(
    compose(
      engine,
      withFailureEvents(opts.events),
      withLogging(opts.log),
      withFairScheduling(opts.scheduler ?? pluginSlots(opts.limits)),
    ),
  );
  // Outside the flight: a remembered failure touches neither the lease nor the database.
  const failures = withFailureMemory<ArtifactRecord, ArtifactJob>({
    minMs: opts.limits.failureMemoryMs ?? 0,
    maxMs: opts.limits.failureMemoryMaxMs ?? opts.limits.failureMemoryMs ?? 0,
  });
  const outcomes = opts.outcomes ? [opts.outcomes] : [];
  return compose(leased, withSingleflight<ArtifactRecord, ArtifactJob>(), failures, ...outcomes);
}

/** A run that failed (not one its callers gave up on) is an `artifact.failed` event, written after it. */
function withFailureEvents(events: Events | undefined): Wrapper<GenerationResult, ArtifactJob> {
  return (g) => ({
    async generate(job, signal) {
      try {
        return await g.generate(job, signal);
      } catch (err) {
        if (events && job.event && !signal?.aborted) {
          const { owner, target, data } = job.event;
          const error = err instanceof Error ? err.message.slice(0, 2000) : String(err);
          await events.emit("artifact.failed", { owner, target, data: { ...data, error } });
        }
        throw err;
      }
    },
  });
}

/** plugins.concurrency, plugins.ownerConcurrency and plugins.anonymousConcurrency as scheduler options. */
export const pluginSlots = (limits: {
  concurrency: number;
  ownerConcurrency?: number | undefined;
  anonymousConcurrency?: number | undefined;
}) => ({
  slots: limits.concurrency,
  perOwner: limits.ownerConcurrency ?? Math.max(1, limits.concurrency - 1),
  anonymous: limits.anonymousConcurrency ?? Math.max(1, Math.floor(limits.concurrency / 2)),
});
