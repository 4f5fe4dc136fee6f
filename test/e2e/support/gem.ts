// Debian's ruby, gem and bundle, each run with its own HOME and GEM_HOME in a temp dir, so nothing outside the test
// is read or written; Debian's google-protobuf (ruby-google-protobuf) stays visible through RubyGems' default path.
import { execFile } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);

/** Why the RubyGems tests cannot run here, or undefined when they can. In CI a missing client is a failure. */
export async function gemMissing(): Promise<string | undefined> {
  let reason: string | undefined;
  try {
    await exec("ruby", ["-e", "require 'google/protobuf'; require 'bundler'"]);
    await exec("gem", ["--version"]);
    await exec("bundle", ["--version"]);
  } catch {
    reason =
      "ruby, gem, bundle or google-protobuf is missing: apt-get install ruby ruby-google-protobuf bundler (.ci/apt/ruby.txt)";
  }
  if (reason && process.env.CI === "true") throw new Error(reason);
  return reason;
}

export interface RubyHome {
  dir: string;
  env: Record<string, string>;
  run(
    command: string,
    args: string[],
    opts?: { cwd?: string; env?: Record<string, string> },
  ): Promise<string>;
}

/** A fresh HOME and GEM_HOME under `dir`: installed gems, Bundler's config and both clients' caches live there. */
export async function createRubyHome(dir: string): Promise<RubyHome> {
  await mkdir(join(dir, "gems"), { recursive: true });
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: dir,
    GEM_HOME: join(dir, "gems"),
    BUNDLE_USER_HOME: join(dir, "bundle"),
    BUNDLE_APP_CONFIG: join(dir, "bundle-app"),
    // Offline: never ask rubygems.org, never prompt.
    BUNDLE_SILENCE_ROOT_WARNING: "true",
    LANG: "C.UTF-8",
  };
  return {
    dir,
    env,
    async run(command, args, opts = {}) {
      try {
        const { stdout } = await exec(command, args, {
          cwd: opts.cwd ?? dir,
          env: { ...env, ...opts.env },
          timeout: 120_000,
        });
        return stdout;
      } catch (err) {
        const e = err as { stdout?: string; stderr?: string; message: string };
        throw new Error(
          `${command} ${args.join(" ")} failed: ${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`,
        );
      }
    },
  };
}
