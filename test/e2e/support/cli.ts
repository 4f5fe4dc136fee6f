// Runs the real `protodepot` CLI as a child process, as a user would.
import { execFile } from "node:child_process";
import { cliPath, repoRoot } from "./server.js";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cliPath, ...args],
      { cwd: repoRoot, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Throws with the CLI's output when it fails, so a broken step names itself. */
export async function cliOk(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const res = await runCli(args, env);
  if (res.code !== 0)
    throw new Error(`protodepot ${args.join(" ")} exited ${res.code}:\n${res.stderr}${res.stdout}`);
  return res;
}
