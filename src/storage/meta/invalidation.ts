// How a write in one process reaches every cache of mutable metadata, in this process and in its sibling workers.

export interface InvalidationBus {
  /**
   * Tells every other process that mutable metadata moved; resolves once each has dropped its cached copies (or
   * could not answer in time), so the write's response is sent only after no worker can serve the old value.
   */
  publish(): Promise<void>;
  /** `drop` runs when another process published. */
  subscribe(drop: () => void): void;
}

/** One process: nobody else caches anything. */
export const localBus: InvalidationBus = {
  publish: () => Promise.resolve(),
  subscribe: () => {},
};

/**
 * The epoch of mutable metadata: it moves on at every write that may move a label, a head, a template's versions,
 * a visibility or a membership, here or in a sibling worker. A cache of anything derived from such facts stores the
 * epoch it read at, and an entry of an older epoch is a miss.
 */
export interface Invalidation {
  epoch(): number;
  /** Moves the epoch on here, then in every sibling; resolves when all have. */
  invalidate(): Promise<void>;
}

/** The process's own epoch: what its caches listen to, and which buses it tells and hears from. */
export interface LocalInvalidation extends Invalidation {
  /** `fn` runs whenever the epoch moves on, after it has. */
  onDrop(fn: () => void): void;
  /** Also tells, and hears from, the processes of another bus (other nodes: MetadataStore.peers). */
  join(more: InvalidationBus): void;
}

export function createInvalidation(bus: InvalidationBus = localBus): LocalInvalidation {
  let epoch = 0;
  const listeners: (() => void)[] = [];
  const buses: InvalidationBus[] = [];
  const drop = () => {
    epoch++;
    for (const fn of listeners) fn();
  };
  const join = (b: InvalidationBus) => {
    buses.push(b);
    b.subscribe(drop);
  };
  join(bus);
  return {
    epoch: () => epoch,
    async invalidate() {
      drop();
      await Promise.all(buses.map((b) => b.publish()));
    },
    onDrop(fn) {
      listeners.push(fn);
    },
    join,
  };
}
