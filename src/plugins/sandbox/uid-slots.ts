// One host uid per concurrent run, from a configured range: per-uid limits (RLIMIT_NPROC) then bound one run each.
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { isAlive } from "./cgroup-files.js";

export interface UidRange {
  first: number;
  count: number;
}

export interface UidSlot {
  uid: number;
  /** Kills whatever still runs as the uid, waits until it is gone, and frees the uid for the next run. */
  release(): Promise<void>;
}

export interface UidSlots {
  /** Why no uid of the range can be used, or undefined. */
  readonly missing: string | undefined;
  /** The uids runs take turns on (the range minus those the host's user database or subordinate ranges use). */
  readonly uids: readonly number[];
  /** A free uid; waits while every one is taken (here, or by another server process on this host). */
  acquire(): Promise<UidSlot>;
}

export interface UidSlotOptions {
  /** Lock files, one per uid in use, shared by every server process on the host (workers, other data dirs). */
  lockDir?: string;
  /** Where the host's users and subordinate ranges are listed (tests point elsewhere). */
  etc?: string;
}

/**
 * A lock is freed only once nothing runs as its uid, never on close: a run still dying would otherwise be killed by,
 * or count against, the next run given that uid. A server that exits leaves its locks; its pid is then dead, and
 * the next claim takes them over (killing what is left first).
 */
const defaultLockDir = "/run/protodepot-sandbox-uids";
/** How often a run waiting for a uid held by another process looks again (local releases wake it at once). */
const retryMs = 100;

/** The uids of the range no host user, group or subordinate range uses, and why none can be used if so. */
function usableUids(range: UidRange, lockDir: string, etc: string): { uids: number[]; missing?: string } {
  const taken = usedIds(etc);
  const uids: number[] = [];
  for (let uid = range.first; uid < range.first + range.count; uid++) if (!taken(uid)) uids.push(uid);
  if (uids.length === 0) {
    const last = range.first + range.count - 1;
    return {
      uids,
      missing: `every uid of sandbox.uidRange ${range.first}…${last} belongs to a user, a group or a subordinate range of this host`,
    };
  }
  try {
    mkdirSync(lockDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    return { uids, missing: `cannot create ${lockDir}: ${(err as Error).message}` };
  }
  return { uids };
}

/** Claims `uid` for this process unless a live process holds its lock file. */
function claim(lockDir: string, uid: number): boolean {
  const file = join(lockDir, String(uid));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, "wx", 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const holder = Number(safeRead(file));
      if (holder === process.pid || (holder > 0 && isAlive(holder))) return false;
      // A server that died while running a plugin: its lock is stale.
      try {
        unlinkSync(file);
      } catch {
        // Another process took it over first.
      }
    }
  }
  return false;
}

/** Resolves when a local release wakes it, or after retryMs (a uid held by another process may be free by then). */
function nextTry(waiters: (() => void)[]): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      const i = waiters.indexOf(wake);
      if (i >= 0) waiters.splice(i, 1);
      resolve();
    }, retryMs);
    const wake = () => {
      clearTimeout(timer);
      resolve();
    };
    waiters.push(wake);
  });
}

export function createUidSlots(range: UidRange, opts: UidSlotOptions = {}): UidSlots {
  const lockDir = opts.lockDir ?? defaultLockDir;
  const { uids, missing } = usableUids(range, lockDir, opts.etc ?? "/etc");
  const held = new Set<number>();
  const waiters: (() => void)[] = [];
  const release = async (uid: number) => {
    await killUid(uid);
    try {
      unlinkSync(join(lockDir, String(uid)));
    } catch {
      // Removed by hand: nothing to free.
    }
    held.delete(uid);
    waiters.shift()?.();
  };
  return {
    missing,
    uids,
    async acquire() {
      for (;;) {
        for (const uid of uids) {
          if (held.has(uid) || !claim(lockDir, uid)) continue;
          held.add(uid);
          // Leftovers of a server that died mid-run would count against this run's process limit.
          await killUid(uid);
          return { uid, release: () => release(uid) };
        }
        await nextTry(waiters);
      }
    },
  };
}

function safeRead(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

/** Ids named in passwd, group, subuid or subgid: a range that overlaps them would limit or kill someone else. */
function usedIds(etc: string): (id: number) => boolean {
  const single = new Set<number>();
  const ranges: [number, number][] = [];
  for (const name of ["passwd", "group"]) {
    for (const line of safeRead(join(etc, name)).split("\n")) {
      const id = Number(line.split(":")[2]);
      if (line && Number.isInteger(id)) single.add(id);
    }
  }
  for (const name of ["subuid", "subgid"]) {
    for (const line of safeRead(join(etc, name)).split("\n")) {
      const [, start, count] = line.split(":").map(Number);
      if (start !== undefined && count !== undefined && Number.isInteger(start) && count > 0) {
        ranges.push([start, start + count]);
      }
    }
  }
  return (id) => single.has(id) || ranges.some(([a, b]) => id >= a && id < b);
}

/** Pids whose real uid is `uid`, from /proc. */
export async function processesOfUid(uid: number): Promise<number[]> {
  const out: number[] = [];
  const names = await readdir("/proc");
  await Promise.all(
    names.map(async (name) => {
      if (!/^\d+$/.test(name)) return;
      try {
        const status = await readFile(`/proc/${name}/status`, "latin1");
        if (Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]) === uid) out.push(Number(name));
      } catch {
        // Exited while we looked.
      }
    }),
  );
  return out;
}

/** SIGKILLs every process of `uid` until none is left (zombies count against RLIMIT_NPROC until reaped). */
async function killUid(uid: number): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const pids = await processesOfUid(uid);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
