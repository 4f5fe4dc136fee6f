// The coarse day a module's and a template's artifacts were last served, for the rule that refuses deleting what
// someone still installs (config lifecycle.refuseDeleteIfServedWithinDays). A download only adds two ids to a set;
// a timer writes what is new since the last write, so the database sees at most one write per id per day and node.
import type { ArtifactRecord } from "../../core/types.js";
import type { DeletionStore } from "../../storage/meta/metadata-store.js";

export interface ServedDays {
  /** Notes a served artifact: synchronous, no I/O. */
  served(record: Pick<ArtifactRecord, "commitId" | "templateId">): void;
  /** Writes what was noted and not yet written (a deletion's check calls it first). */
  flush(): Promise<void>;
  /** Stops the timer after a last flush. */
  close(): Promise<void>;
}

export interface ServedDaysOptions {
  meta: Pick<DeletionStore, "recordServed">;
  /** How often noted ids are written; a deletion on another node sees a download at most this late. */
  flushMs?: number;
  /** Ids noted in one day past which a write starts at once (bounds memory). */
  maxPending?: number;
  now?: () => number;
  /** A failed write is retried at the next flush; this hears about it. */
  onError?: (err: unknown) => void;
}

/** YYYY-MM-DD (UTC) of an instant. */
export const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** Whether `lastServedOn` falls within the `days` days up to `today` (days 0: never). */
export function servedWithin(lastServedOn: string | undefined, days: number, nowMs: number): boolean {
  if (days <= 0 || lastServedOn === undefined) return false;
  return lastServedOn >= dayOf(nowMs - days * 24 * 60 * 60 * 1000);
}

export function createServedDays(opts: ServedDaysOptions): ServedDays {
  const now = opts.now ?? Date.now;
  const maxPending = opts.maxPending ?? 10_000;
  const dayMs = 24 * 60 * 60 * 1000;
  let day = dayOf(now());
  // Comparing numbers per download, not formatting a date.
  let nextDayAt = (Math.floor(now() / dayMs) + 1) * dayMs;
  // Ids written (or being written) today: a repeat download costs one Set lookup.
  let written = { commits: new Set<string>(), templates: new Set<string>() };
  let pending = { commits: new Set<string>(), templates: new Set<string>() };
  let writing: Promise<void> = Promise.resolve();

  function rollOver(): void {
    const at = now();
    if (at < nextDayAt) return;
    day = dayOf(at);
    nextDayAt = (Math.floor(at / dayMs) + 1) * dayMs;
    written = { commits: new Set(), templates: new Set() };
  }

  function flush(): Promise<void> {
    const batch = pending;
    if (batch.commits.size === 0 && batch.templates.size === 0) return writing;
    pending = { commits: new Set(), templates: new Set() };
    const on = day;
    writing = writing.then(async () => {
      try {
        await opts.meta.recordServed(on, {
          commitIds: [...batch.commits],
          templateIds: [...batch.templates],
        });
      } catch (err) {
        // Pending again, so the next flush retries them (unless the day moved on: then the next download does).
        if (on === day) {
          for (const id of batch.commits) pending.commits.add(id);
          for (const id of batch.templates) pending.templates.add(id);
        }
        opts.onError?.(err);
      }
    });
    return writing;
  }

  const timer = setInterval(() => void flush(), opts.flushMs ?? 60_000);
  timer.unref();

  return {
    served(record) {
      rollOver();
      if (!written.commits.has(record.commitId)) {
        written.commits.add(record.commitId);
        pending.commits.add(record.commitId);
      }
      if (!written.templates.has(record.templateId)) {
        written.templates.add(record.templateId);
        pending.templates.add(record.templateId);
      }
      if (pending.commits.size + pending.templates.size >= maxPending) void flush();
    },
    flush,
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}
