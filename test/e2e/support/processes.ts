// What a running server has started, read from /proc: its direct children, whichever of its threads spawned them
// (buf is spawned from a worker thread, compile/buf-process-thread.ts, so its children are listed under that task).
import { readdir, readFile } from "node:fs/promises";

/** The command lines (NUL-separated arguments) of the processes `pid` started and that are still alive. */
export async function childCommandLines(pid: number): Promise<string[]> {
  const tasks = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  const lists = await Promise.all(
    tasks.map((t) => readFile(`/proc/${pid}/task/${t}/children`, "utf8").catch(() => "")),
  );
  const children = lists.join(" ").trim().split(/\s+/).filter(Boolean);
  return Promise.all(children.map((c) => readFile(`/proc/${c}/cmdline`, "utf8").catch(() => "")));
}
