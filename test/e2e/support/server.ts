// Starts the real `protodepot serve` as a child process on a free loopback port with a temp data dir.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
export const cliPath = join(repoRoot, "bin", "protodepot.js");
export const adminToken = "pd_test-admin-token-0123456789";

export interface TestServer {
  url: string;
  dataDir: string;
  child: ChildProcess;
  output(): string;
  /** Graceful stop (SIGTERM), waiting for the process to exit. */
  stop(): Promise<void>;
  /** SIGKILL: no cleanup at all, like a crash. */
  kill(): Promise<void>;
}

export async function makeDataDir(
  prefix = "protodepot-e2e-",
): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Calls one method of the management API as JSON (Connect speaks JSON over POST, as curl users send it). */
export async function callApi(
  url: string,
  method: string,
  body: unknown,
  /** undefined: anonymous. */
  token: string | undefined,
): Promise<Response> {
  return fetch(`${url}/protodepot.v1.${method}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
}

export async function startTestServer(opts: {
  dataDir: string;
  env?: Record<string, string>;
  args?: string[];
  /** Organizations the admin creates right after start (things can only be created under existing owners). */
  orgs?: string[];
}): Promise<TestServer> {
  const child = spawn(
    process.execPath,
    [cliPath, "serve", "--port", "0", "--data", opts.dataDir, ...(opts.args ?? [])],
    {
      cwd: repoRoot,
      env: { ...process.env, PROTODEPOT_ADMIN_TOKEN: adminToken, PROTODEPOT_LOG_LEVEL: "warn", ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 60s:\n${out}`)), 60_000);
    const check = () => {
      const m = /protodepot serving at (\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout?.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${out}`));
    });
  });
  for (const name of opts.orgs ?? []) {
    const res = await callApi(url, "OrganizationService/CreateOrganization", { name }, adminToken);
    const text = await res.text();
    if (!res.ok && !text.includes("already taken")) throw new Error(`creating organization ${name}: ${text}`);
  }
  return {
    url,
    dataDir: opts.dataDir,
    child,
    output: () => out,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
    async kill() {
      if (child.exitCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}
