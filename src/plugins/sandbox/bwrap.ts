// The bubblewrap argv for one plugin run: no network, no privileges, read-only files, a bounded private /tmp.
import { accessSync, constants, existsSync, lstatSync, readlinkSync } from "node:fs";
import { sep } from "node:path";

export const bwrapPath = "/usr/bin/bwrap";

/** True when bubblewrap is installed where the sandbox looks for it. */
export function isBwrapAvailable(): boolean {
  try {
    accessSync(bwrapPath, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The system tree a host-command plugin gets, read-only. A merged-/usr symlink (`/lib -> usr/lib`) is recreated as one. */
const systemDirs = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];
/**
 * The few /etc files a dynamically linked program or node needs (loader cache, alternatives symlinks, time zone);
 * the rest of /etc (passwd, hosts, TLS keys, the registry's own config) stays out.
 */
const etcFiles = [
  "/etc/ld.so.cache",
  "/etc/ld.so.conf",
  "/etc/ld.so.conf.d",
  "/etc/alternatives",
  "/etc/localtime",
];

/**
 * The unprivileged user the plugin runs as: `nobody`, without capabilities. A root server also starts bwrap itself
 * as this user, so the plugin's processes are nobody's on the host too, not root's in a user namespace.
 */
export const sandboxUid = 65534;

/** What the plugin sees as its filesystem. */
export type SandboxFilesystem =
  /** The host's system tree plus these host directories, all read-only (admin-configured commands). */
  | { kind: "host"; binds: readonly string[] }
  /**
   * An unpacked image root, read-only as `/` (pushed images: nothing of the host is visible). It is handed over as
   * an open directory at `fd` in bwrap, so the sandbox's user needs no access to the directories above it.
   */
  | { kind: "rootfs"; root: string };

/** The child's descriptor of an image root (the sandbox passes the open directory as the first extra fd). */
export const rootfsFd = 3;

export interface SandboxSpec {
  fs: SandboxFilesystem;
  /** Absolute path inside the sandbox. */
  executable: string;
  args: readonly string[];
  env: Record<string, string>;
  /** Working directory inside the sandbox. */
  cwd: string;
}

/** bwrap argv (after the bwrap path itself). `tmpBytes` bounds the private /tmp (bwrap ≥ 0.8 `--size`). */
export function bwrapArgs(spec: SandboxSpec, tmpBytes: number): string[] {
  const args = [
    "--unshare-all",
    // The sandbox's own user namespace maps to nobody; --disable-userns stops the plugin from nesting another one.
    "--unshare-user",
    "--uid",
    String(sandboxUid),
    "--gid",
    String(sandboxUid),
    "--disable-userns",
    "--cap-drop",
    "ALL",
    "--die-with-parent",
    "--new-session",
  ];
  if (spec.fs.kind === "rootfs") {
    args.push("--ro-bind-fd", String(rootfsFd), "/");
  } else {
    for (const dir of systemDirs) {
      if (!existsSync(dir)) continue;
      if (lstatSync(dir).isSymbolicLink()) args.push("--symlink", readlinkSync(dir), dir);
      else args.push("--ro-bind", dir, dir);
    }
    for (const file of etcFiles) args.push("--ro-bind-try", file, file);
  }
  // The private /tmp comes before the plugin's own binds: a plugin installed under /tmp (a checkout there, say)
  // is then bound on top of it instead of hidden by it. Its pages count against the memory cgroup too.
  // /dev is a tmpfs of half the host's RAM that the sandbox user could fill (/dev/shm included), counted by no
  // limit but a memory cgroup: read-only, its device nodes still work.
  args.push(
    "--size",
    String(tmpBytes),
    "--tmpfs",
    "/tmp",
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--remount-ro",
    "/dev",
  );
  if (spec.fs.kind === "host") {
    for (const dir of spec.fs.binds) {
      if (!systemDirs.some((s) => within(dir, s))) args.push("--ro-bind", dir, dir);
    }
  }
  args.push("--chdir", spec.cwd, "--clearenv");
  for (const [k, v] of Object.entries(spec.env)) args.push("--setenv", k, v);
  args.push("--", spec.executable, ...spec.args);
  return args;
}

function within(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}
