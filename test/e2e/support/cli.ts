// Runs the real `protodepot` CLI as a child process, as a user would.
import { execFile } from "node:child_process";
import { cliPath, repoRoot } from "./server.js";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `opts.stdin` is written to the CLI's standard input (which is then closed); without it stdin is empty. */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
  opts: { stdin?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [cliPath, ...args],
      { cwd: repoRoot, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(opts.stdin ?? "");
  });
}

/** Throws with the CLI's output when it fails, so a broken step names itself. */
export async function cliOk(
  args: string[],
  env: Record<string, string> = {},
  opts: { stdin?: string } = {},
): Promise<CliResult> {
  const res = await runCli(args, env, opts);
  if (res.code !== 0)
    throw new Error(`protodepot ${args.join(" ")} exited ${res.code}:\n${res.stderr}${res.stdout}`);
  return res;
}
