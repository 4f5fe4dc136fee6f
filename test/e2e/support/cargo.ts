// The real cargo, offline: crates.io replaced by Debian's vendored crates (/usr/share/cargo/registry), our registry
// as a sparse registry on loopback, CARGO_HOME in a temp dir; and our prost plugin, built by its own script.
import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { repoRoot } from "./server.js";

const exec = promisify(execFile);
export const debianCrates = "/usr/share/cargo/registry";

/** cargo on PATH, else rustup's default place. */
export function cargoCommand(): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (dir && existsSync(join(dir, "cargo"))) return join(dir, "cargo");
  }
  return existsSync("/root/.cargo/bin/cargo") ? "/root/.cargo/bin/cargo" : undefined;
}

/** Why the cargo tests cannot run here, or undefined when they can. In CI a missing part is a failure. */
export function cargoMissing(): string | undefined {
  let reason: string | undefined;
  const crates = existsSync(debianCrates) ? readdirSync(debianCrates) : [];
  if (!cargoCommand()) reason = "cargo is missing";
  else if (
    !["prost-0.11", "prost-types-0.11", "prost-build-0.11"].every((p) => crates.some((c) => c.startsWith(p)))
  )
    reason =
      "Debian's prost crates are missing: apt-get install librust-prost-build-dev (.ci/apt/rust-cmake.txt)";
  if (reason && process.env.CI === "true") throw new Error(reason);
  return reason;
}

/** Builds plugins/rust-prost (incremental after the first time); returns the binary's path. */
export async function buildRustProst(): Promise<string> {
  const cargo = cargoCommand() ?? "cargo";
  const { stdout } = await exec(join(repoRoot, "plugins/rust-prost/build.sh"), [], {
    env: { ...process.env, CARGO: cargo },
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout.trim();
}

export interface CargoProject {
  dir: string;
  /** Runs cargo in the project with its own CARGO_HOME; rejects with cargo's stderr. */
  cargo(args: string[], env?: Record<string, string>): Promise<{ stdout: string; stderr: string }>;
}

/**
 * A binary crate depending on our crates through registry `protodepot` at `index`, with its own CARGO_HOME (so no
 * earlier run's cache or credentials count) and a shared target dir (Debian's prost compiles once per test file).
 */
export async function createCargoProject(opts: {
  dir: string;
  index: string;
  dependencies: Record<string, string>;
  main: string;
  targetDir: string;
}): Promise<CargoProject> {
  const { dir } = opts;
  const home = join(dir, "cargo-home");
  await mkdir(join(dir, "src"), { recursive: true });
  await mkdir(home, { recursive: true });
  await writeFile(
    join(home, "config.toml"),
    `[registries.protodepot]\nindex = ${JSON.stringify(opts.index)}\ncredential-provider = "cargo:token"\n\n` +
      `[source.crates-io]\nreplace-with = "debian"\n\n[source.debian]\ndirectory = ${JSON.stringify(debianCrates)}\n`,
  );
  const deps = Object.entries(opts.dependencies)
    .map(([name, spec]) => `${name} = ${spec}`)
    .join("\n");
  await writeFile(
    join(dir, "Cargo.toml"),
    `[package]\nname = "consumer"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n${deps}\n`,
  );
  await writeFile(join(dir, "src/main.rs"), opts.main);
  const cargo = cargoCommand() ?? "cargo";
  return {
    dir,
    cargo(args, env = {}) {
      const clean: NodeJS.ProcessEnv = { ...process.env };
      for (const key of Object.keys(clean)) if (key.startsWith("CARGO_REGISTRIES_")) delete clean[key];
      return exec(cargo, args, {
        cwd: dir,
        env: {
          ...clean,
          // rustc beside cargo (rustup's ~/.cargo/bin may not be on PATH).
          PATH: `${dirname(cargo)}:${process.env.PATH ?? ""}`,
          CARGO_HOME: home,
          CARGO_TARGET_DIR: opts.targetDir,
          CARGO_TERM_COLOR: "never",
          CARGO_NET_RETRY: "0",
          ...env,
        },
        maxBuffer: 16 * 1024 * 1024,
      });
    },
  };
}
