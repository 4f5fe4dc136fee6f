// Runs the real `npm` in a consumer project, isolated from the user's npm config and cache.
import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

export interface NpmProject {
  dir: string;
  /** Runs `npm …` in the project; throws with npm's output when it fails. */
  npm(args: string[]): Promise<{ stdout: string; stderr: string }>;
  /** Runs `npm …` and returns its exit code and output without throwing. */
  tryNpm(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
}

/**
 * A fresh project in `dir`. With `registry` and `scope`, its `.npmrc` sends `@scope` to the registry (with a token,
 * as `npm login` would write it) and everything else to the default registry; `userconfig` names the user config
 * npm reads instead of an empty one beside the project (as `login --npmrc FILE` writes it). The cache lives beside.
 */
export async function createNpmProject(opts: {
  dir: string;
  registry?: string;
  scope?: string;
  token?: string;
  userconfig?: string;
  env?: Record<string, string>;
}): Promise<NpmProject> {
  await mkdir(opts.dir, { recursive: true });
  if (opts.registry !== undefined && opts.scope !== undefined) {
    const registry = opts.registry.endsWith("/") ? opts.registry : `${opts.registry}/`;
    const hostPath = registry.replace(/^https?:/, "");
    const lines = [`@${opts.scope}:registry=${registry}`];
    if (opts.token) lines.push(`${hostPath}:_authToken=${opts.token}`);
    await writeFile(join(opts.dir, ".npmrc"), `${lines.join("\n")}\n`);
  }
  await writeFile(
    join(opts.dir, "package.json"),
    `${JSON.stringify({ name: "consumer", private: true, type: "module" }, null, 2)}\n`,
  );
  let userConfig = opts.userconfig;
  if (userConfig === undefined) {
    userConfig = join(opts.dir, "..", "npm-userconfig");
    await writeFile(userConfig, "");
  }
  // Under `npm test` the outer npm exports its whole configuration as npm_config_* variables (e.g. a user's
  // omit-lockfile-registry-resolved): the consumer's npm must not inherit them.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  const env = {
    ...inherited,
    npm_config_cache: join(opts.dir, "..", "npm-cache"),
    npm_config_userconfig: userConfig,
    npm_config_audit: "false",
    npm_config_fund: "false",
    npm_config_update_notifier: "false",
    npm_config_loglevel: "warn",
    ...opts.env,
  };
  const tryNpm = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile("npm", args, { cwd: opts.dir, env, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
      });
    });
  return {
    dir: opts.dir,
    tryNpm,
    async npm(args) {
      const res = await tryNpm(args);
      if (res.code !== 0)
        throw new Error(`npm ${args.join(" ")} exited ${res.code}:\n${res.stderr}${res.stdout}`);
      return res;
    },
  };
}
