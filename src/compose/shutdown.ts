// The one order in which a server lets go of what it holds, whatever built it and however far the start got.
/**
 * First the listener (no new requests, in-flight ones answered), then the services that run background work, then
 * the processes and directories that work runs in, last the stores everything above reads and writes.
 */
const order = ["http", "services", "execution", "storage"] as const;

export type ShutdownPhase = (typeof order)[number];

export interface Shutdown {
  /** `close` runs in `phase`; closers of one phase run in the order they were added. */
  add(phase: ShutdownPhase, close: () => void | Promise<void>): void;
  /**
   * Runs every closer once, phase by phase, even past one that fails; throws the first failure at the end. A second
   * call waits for the first.
   */
  run(): Promise<void>;
}

export function createShutdown(): Shutdown {
  const closers = new Map<ShutdownPhase, (() => void | Promise<void>)[]>(order.map((phase) => [phase, []]));
  let done: Promise<void> | undefined;
  const runAll = async () => {
    const failures: unknown[] = [];
    for (const phase of order) {
      for (const close of closers.get(phase) ?? []) {
        try {
          await close();
        } catch (err) {
          failures.push(err);
        }
      }
    }
    if (failures.length > 0) throw failures[0];
  };
  return {
    add(phase, close) {
      closers.get(phase)?.push(close);
    },
    run() {
      done ??= runAll();
      return done;
    },
  };
}
