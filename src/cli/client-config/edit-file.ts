// Rewrites a user's configuration file in place: atomically, through symlinks (dotfile managers link them), and
// only when the content changes.
import { chmod, mkdir, readFile, realpath, rename, stat, unlink, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

export type EditOutcome = "created" | "updated" | "unchanged";

const isMissing = (err: unknown) => (err as { code?: unknown }).code === "ENOENT";

/** The file ends up with `mode` whether it existed or not: what login writes there is a token. */
export async function editFile(
  path: string,
  edit: (text: string) => string,
  mode: number,
): Promise<EditOutcome> {
  const target = await realpath(path).catch((err: unknown) => {
    if (isMissing(err)) return path;
    throw err;
  });
  const before = await readFile(target, "utf8").catch((err: unknown) => {
    if (isMissing(err)) return undefined;
    throw err;
  });
  const after = edit(before ?? "");
  const current = before === undefined ? undefined : (await stat(target)).mode & 0o777;
  if (after === before) {
    if (current !== mode) await chmod(target, mode);
    return "unchanged";
  }
  await mkdir(dirname(target), { recursive: true, mode: 0o700 });
  const tmp = `${target}.protodepot-${process.pid}.tmp`;
  try {
    await writeFile(tmp, after, { mode, flag: "wx" });
    // writeFile's mode is masked by the umask; the file must end up with exactly this one.
    await chmod(tmp, mode);
    await rename(tmp, target);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
  return before === undefined ? "created" : "updated";
}
