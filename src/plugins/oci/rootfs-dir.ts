// Where unpacked image roots live: a directory the sandbox's user can reach, since bwrap mounts them as that user.
import { createHash } from "node:crypto";
import { lstatSync, mkdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";

/**
 * The first directory above `dir` that `uid` cannot search, if any. bwrap runs as that user and must reach the root
 * it mounts; a data directory of mode 0700 hides everything below it.
 */
export function unreachableAncestor(dir: string, uid: number): string | undefined {
  if (uid === 0) return undefined;
  for (let d = dirname(resolve(dir)); ; d = dirname(d)) {
    const st = statSync(d);
    const searchable = st.uid === uid ? (st.mode & 0o100) !== 0 : (st.mode & 0o001) !== 0;
    if (!searchable) return d;
    if (dirname(d) === d) return undefined;
  }
}

export interface RootfsDir {
  dir: string;
  /** A directory in the temp dir, removed when the server stops. */
  temporary: boolean;
}

/**
 * `oci.rootfsDir` when configured; else `{dataDir}/oci-rootfs` when the sandbox's user can reach it; else (the data
 * directory is 0700, the default) a directory of this data directory in the system's temp dir, which is
 * searchable by everyone, removed when the server stops. It is only a cache: losing it costs one unpack per image.
 */
export function chooseRootfsDir(opts: {
  configured?: string | undefined;
  dataDir: string;
  sandboxUid: number;
}): RootfsDir {
  if (opts.configured) return { dir: opts.configured, temporary: false };
  const inData = join(opts.dataDir, "oci-rootfs");
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  if (unreachableAncestor(inData, opts.sandboxUid) === undefined) return { dir: inData, temporary: false };
  const id = createHash("sha256").update(resolve(opts.dataDir)).digest("hex").slice(0, 16);
  const dir = join(tmpdir(), `protodepot-rootfs-${id}`);
  mkdirSync(dir, { recursive: true, mode: 0o711 });
  // In a shared temp dir someone else could have made this name first: use it only if it is ours.
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== (process.getuid?.() ?? st.uid)) {
    throw new Error(`${dir} exists but is not a directory of this user: set oci.rootfsDir`);
  }
  return { dir, temporary: true };
}
