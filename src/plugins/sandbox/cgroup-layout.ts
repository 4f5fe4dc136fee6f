// Where this process's cgroups are: the v1 hierarchies by controller and the v2 (unified) group, from /proc.
import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface CgroupLayout {
  /** v1: the directory of this process's own group, by controller (`memory` → /sys/fs/cgroup/memory/a/b). */
  v1: Map<string, string>;
  /** v2: the directory of this process's own group in the unified hierarchy, when one is mounted. */
  v2: string | undefined;
}

interface Mount {
  /** The hierarchy path mounted there (not `/` for a bind mount of a subtree, as in some containers). */
  root: string;
  point: string;
  fstype: string;
  superOptions: string[];
}

/** `/proc/self/mountinfo`: `36 25 0:31 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory`. */
function parseMounts(mountinfo: string): Mount[] {
  const out: Mount[] = [];
  for (const line of mountinfo.split("\n")) {
    const [pre, post] = line.split(" - ");
    if (!pre || !post) continue;
    const fields = pre.split(" ");
    const [fstype, , options] = post.split(" ");
    const root = fields[3];
    const point = fields[4];
    if (!root || !point || !fstype) continue;
    out.push({
      root: unescapeOctal(root),
      point: unescapeOctal(point),
      fstype,
      superOptions: (options ?? "").split(","),
    });
  }
  return out;
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

/** The group path `path` as seen under a mount of hierarchy subtree `root`, or undefined when outside it. */
function under(mount: Mount, path: string): string | undefined {
  let rest: string;
  if (mount.root === "/") rest = path;
  else if (path === mount.root || path.startsWith(`${mount.root}/`)) rest = path.slice(mount.root.length);
  else return undefined;
  return join(mount.point, rest).replace(/(.)\/+$/, "$1");
}

/** Pure: the layout from the text of `/proc/self/mountinfo` and `/proc/self/cgroup`. */
export function parseCgroupLayout(mountinfo: string, selfCgroup: string): CgroupLayout {
  const mounts = parseMounts(mountinfo);
  const v1 = new Map<string, string>();
  let v2: string | undefined;
  for (const line of selfCgroup.split("\n")) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const [, id, names = "", path = "/"] = m;
    if (id === "0" && names === "") {
      // The first cgroup2 mount that holds our group (a host may mount it twice).
      for (const mount of mounts) {
        if (mount.fstype !== "cgroup2" || v2 !== undefined) continue;
        v2 = under(mount, path);
      }
      continue;
    }
    for (const name of names.split(",")) {
      const mount = mounts.find((x) => x.fstype === "cgroup" && x.superOptions.includes(name));
      const dir = mount && under(mount, path);
      if (dir !== undefined && !v1.has(name)) v1.set(name, dir);
    }
  }
  return { v1, v2 };
}

/** This process's layout. */
export function readCgroupLayout(): CgroupLayout {
  try {
    return parseCgroupLayout(
      readFileSync("/proc/self/mountinfo", "utf8"),
      readFileSync("/proc/self/cgroup", "utf8"),
    );
  } catch {
    return { v1: new Map(), v2: undefined };
  }
}
