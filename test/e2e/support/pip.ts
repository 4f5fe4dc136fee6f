// Debian's python3 and pip in a fresh venv that sees Debian's protobuf runtime, and nothing but our index.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);
/** Debian's: `python3` on PATH may be another one (pyenv here) that does not see python3-protobuf. */
export const debianPython = "/usr/bin/python3";

/** Why the pip tests cannot run here, or undefined when they can. In CI a missing client is a failure. */
export async function pipMissing(): Promise<string | undefined> {
  const why = (what: string) =>
    `${what}: apt-get install python3-venv python3-pip python3-protobuf (.ci/apt/pypi.txt)`;
  let reason: string | undefined;
  if (!existsSync(debianPython)) reason = why(`${debianPython} is missing`);
  else {
    try {
      await exec(debianPython, ["-c", "import ensurepip, venv, google.protobuf"]);
    } catch {
      reason = why("Debian's python3 lacks venv, ensurepip or google.protobuf");
    }
  }
  if (reason && process.env.CI === "true") throw new Error(reason);
  return reason;
}

/** Debian's gRPC plugin for Python and the grpcio runtime, for protodepot/python-grpc. */
export async function grpcPythonMissing(): Promise<string | undefined> {
  let reason: string | undefined;
  try {
    await exec(debianPython, ["-c", "import grpc"]);
    if (!existsSync("/usr/bin/grpc_python_plugin")) reason = "/usr/bin/grpc_python_plugin is missing";
  } catch {
    reason = "Debian's python3 lacks grpc";
  }
  if (!reason) return undefined;
  reason += ": apt-get install protobuf-compiler-grpc python3-grpcio (.ci/apt/pypi.txt)";
  if (process.env.CI === "true") throw new Error(reason);
  return reason;
}

export interface Venv {
  dir: string;
  python: string;
  /** pip with the machine's own pip configuration and find-links switched off, so only `--index-url` is asked. */
  pip(args: string[]): Promise<{ stdout: string; stderr: string }>;
  /** Runs a script with the venv's python. */
  run(script: string): Promise<string>;
}

export async function createVenv(dir: string): Promise<Venv> {
  await exec(debianPython, ["-m", "venv", "--system-site-packages", dir]);
  const python = join(dir, "bin/python");
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PIP_CONFIG_FILE: "/dev/null",
    PIP_DISABLE_PIP_VERSION_CHECK: "1",
  };
  delete env.PIP_FIND_LINKS;
  delete env.PIP_INDEX_URL;
  delete env.PIP_EXTRA_INDEX_URL;
  return {
    dir,
    python,
    pip: (args) => exec(join(dir, "bin/pip"), args, { env, maxBuffer: 16 << 20 }),
    run: async (script) => (await exec(python, ["-c", script], { env, cwd: dir })).stdout.trim(),
  };
}
