// Per-user CLI settings: the token stored for each remote by `protodepot login`.
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

export interface Settings {
  /** The remote used when none is given. */
  current?: string;
  remotes: Record<string, { token: string }>;
}

export function settingsPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(base, "protodepot", "config.json");
}

export async function readSettings(path = settingsPath()): Promise<Settings> {
  const text = await readFile(path, "utf8").catch(() => undefined);
  if (!text) return { remotes: {} };
  const parsed = JSON.parse(text) as Partial<Settings>;
  return { ...parsed, remotes: parsed.remotes ?? {} };
}

/** Written atomically with mode 0600: it holds secrets. */
export async function writeSettings(settings: Settings, path = settingsPath()): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, path);
}

export function normalizeRemote(url: string): string {
  const u = new URL(url.includes("://") ? url : `http://${url}`);
  return u.origin;
}
