// `protodepot login URL --token-stdin [--npmrc] [--netrc] [--pip] [--maven] [--yarnrc] [--all]`: check a token, store
// it for later commands, and on request write what npm, go/buf, pip, Maven and Yarn 4 read to use it. With `--sso`
// the token comes from a single sign-on through the server (device flow, docs/sso.md) instead.
import { homedir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline/promises";
import { Writable } from "node:stream";
import type { Command } from "commander";
import { ServerService } from "../../gen/protodepot/v1/server_pb.js";
import { PollDeviceSignInResponse_Status, SignInService } from "../../gen/protodepot/v1/sign_in_pb.js";
import { UserService } from "../../gen/protodepot/v1/user_pb.js";
import { openRemote, type RemoteOptions } from "../client.js";
import { editFile } from "../client-config/edit-file.js";
import {
  mavenSettingsFor,
  mavenSettingsSnippet,
  upsertMavenSettings,
} from "../client-config/maven-settings.js";
import { netrcMachines, upsertNetrc } from "../client-config/netrc.js";
import { npmrcEntries, upsertNpmrc } from "../client-config/npmrc.js";
import { defaultPipConf, pipIndexUrl, upsertPipConf } from "../client-config/pip-conf.js";
import { upsertYarnrc } from "../client-config/yarnrc.js";
import type { CliCommand } from "../command.js";
import { normalizeRemote, readSettings, writeSettings } from "../settings.js";

interface LoginFlags {
  sso?: boolean;
  provider?: string;
  token?: string;
  tokenStdin?: boolean;
  npmrc?: string | true;
  netrc?: string | true;
  pip?: string | true;
  maven?: string | true;
  yarnrc?: string | true;
  all?: boolean;
}

const maxStdinBytes = 64 * 1024;

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) {
    // Typed at a terminal: prompt, and echo nothing (readline writes the echo to a sink).
    const sink = new Writable({ write: (_chunk, _enc, done) => done() });
    const rl = createInterface({ input: process.stdin, output: sink, terminal: true });
    process.stderr.write("token: ");
    try {
      return await rl.question("");
    } finally {
      rl.close();
      process.stderr.write("\n");
    }
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += bytes.byteLength;
    if (size > maxStdinBytes) throw new Error("--token-stdin: standard input is too long for a token");
    chunks.push(bytes);
  }
  return Buffer.concat(chunks).toString("utf8");
}

async function tokenOf(flags: LoginFlags): Promise<string> {
  if (flags.token !== undefined && flags.tokenStdin) {
    throw new Error("pass either --token-stdin or --token, not both");
  }
  if (flags.token !== undefined) {
    process.stderr.write(
      "protodepot: warning: a token on the command line ends up in shell history and process lists; prefer --token-stdin\n",
    );
    return flags.token;
  }
  if (!flags.tokenStdin) {
    throw new Error(
      "no token: pipe it in with --token-stdin (e.g. 'protodepot login URL --token-stdin < token.txt')",
    );
  }
  const token = (await readStdin()).trim();
  if (token === "") throw new Error("--token-stdin: standard input holds no token");
  if (/\s/.test(token)) throw new Error("--token-stdin: standard input holds more than the token");
  return token;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * `--sso`: the server asks its provider for a user code (RFC 8628); the user approves it in any browser while this
 * polls the server, which answers with a token of its own once the provider says yes.
 */
async function deviceSignIn(url: string, flags: LoginFlags): Promise<string> {
  if (flags.token !== undefined || flags.tokenStdin)
    throw new Error("pass either --sso or a token, not both");
  const signIn = (await openRemote({ remote: url, token: "" })).client(SignInService);
  const started = await signIn.startDeviceSignIn({ provider: flags.provider ?? "" });
  process.stderr.write(
    `To sign in with ${started.provider}, open ${started.verificationUri} and enter the code ${started.userCode}\n` +
      (started.verificationUriComplete ? `(or open ${started.verificationUriComplete})\n` : "") +
      "Waiting for approval...\n",
  );
  let interval = Math.max(1, started.intervalSeconds) * 1000;
  const deadline = Date.now() + started.expiresInSeconds * 1000;
  while (Date.now() < deadline) {
    await sleep(interval);
    const polled = await signIn.pollDeviceSignIn({ provider: started.provider, handle: started.handle });
    if (polled.status === PollDeviceSignInResponse_Status.DONE) return polled.token;
    // RFC 8628 3.5: slow_down adds five seconds to the interval for good.
    if (polled.status === PollDeviceSignInResponse_Status.SLOW_DOWN) interval += 5000;
  }
  throw new Error(
    `the code ${started.userCode} expired before it was approved: run 'protodepot login ${url} --sso' again`,
  );
}

/** Where npm reads the user's configuration: $NPM_CONFIG_USERCONFIG, else ~/.npmrc. */
const defaultNpmrc = () =>
  process.env.NPM_CONFIG_USERCONFIG || process.env.npm_config_userconfig || join(homedir(), ".npmrc");
/** Where go and buf read credentials: $NETRC, else ~/.netrc. */
const defaultNetrc = () => process.env.NETRC || join(homedir(), ".netrc");

/** Where Maven reads the user's settings. */
const defaultMavenSettings = () => join(homedir(), ".m2", "settings.xml");
/** Yarn 4 reads ~/.yarnrc.yml for every project (a project's own .yarnrc.yml can say the same). */
const defaultYarnrc = () => join(homedir(), ".yarnrc.yml");

const said = { created: "created", updated: "updated", unchanged: "already up to date:" } as const;

export function registerLogin(program: Command): void {
  program
    .command("login <url>")
    .description(
      "check a token against a remote (or sign in with --sso), store it for later commands, and optionally set up npm, go, buf, pip, Maven and Yarn",
    )
    .option("--sso", "sign in through the server's single sign-on provider in any browser (device code)")
    .option("--provider <name>", "with --sso: which provider, when the server has several (auth.oidc[].name)")
    .option("--token-stdin", "read the token from standard input (prompts without echo at a terminal)")
    .option("--token <token>", "the token (visible in shell history: prefer --token-stdin)")
    .option(
      "--npmrc [file]",
      "write the registry and token lines for this server's npm scope (default ~/.npmrc, mode 0600)",
    )
    .option(
      "--netrc [file]",
      "write this server's machine entry for go and buf (default ~/.netrc, mode 0600)",
    )
    .option(
      "--pip [file]",
      "add this server's index with the token to pip's extra-index-url (default $PIP_CONFIG_FILE or ~/.config/pip/pip.conf)",
    )
    .option(
      "--maven [file]",
      "write a <server> with the token and an active profile with this repository (default ~/.m2/settings.xml)",
    )
    .option(
      "--yarnrc [file]",
      "write Yarn 4's scope registry and token, and exempt the scope from its age gate (default ~/.yarnrc.yml)",
    )
    .option("--all", "all of --npmrc, --netrc, --pip, --maven and --yarnrc, each at its default path")
    .action(login);
}

async function login(url: string, given: LoginFlags): Promise<void> {
  const flags: LoginFlags = given.all
    ? {
        ...given,
        npmrc: given.npmrc ?? true,
        netrc: given.netrc ?? true,
        pip: given.pip ?? true,
        maven: given.maven ?? true,
        yarnrc: given.yarnrc ?? true,
      }
    : given;
  const token = flags.sso ? await deviceSignIn(url, flags) : await tokenOf(flags);
  const remote = await openRemote({ remote: url, token });
  const { user } = await remote.client(UserService).whoAmI({});
  const name = user?.name ?? "";
  const settings = await readSettings();
  const key = normalizeRemote(url);
  settings.remotes[key] = { token };
  settings.current = key;
  await writeSettings(settings);
  process.stdout.write(`logged in to ${key} as ${name}\n`);
  await writeClientFiles(flags, { remote, key, name, token });
}

/** The files of each client the flags name, each edited in place (only this server's entries change). */
async function writeClientFiles(
  flags: LoginFlags,
  {
    remote,
    key,
    name,
    token,
  }: { remote: Awaited<ReturnType<typeof openRemote>>; key: string; name: string; token: string },
): Promise<void> {
  const needsScope = flags.npmrc !== undefined || flags.yarnrc !== undefined;
  const npmScope = needsScope ? (await remote.client(ServerService).getServerInfo({})).npmScope : "";
  if (flags.npmrc !== undefined) {
    const registry = `${key}/npm/`;
    const path = flags.npmrc === true ? defaultNpmrc() : flags.npmrc;
    const entries = npmrcEntries({ scope: npmScope, registry, token });
    const outcome = await editFile(path, (text) => upsertNpmrc(text, entries), 0o600);
    process.stdout.write(`${said[outcome]} ${path} (@${npmScope} → ${registry})\n`);
  }
  if (flags.netrc !== undefined) {
    const path = flags.netrc === true ? defaultNetrc() : flags.netrc;
    const machines = netrcMachines(key);
    const edit = (text: string) =>
      machines.reduce((t, machine) => upsertNetrc(t, { machine, login: name, password: token }), text);
    const outcome = await editFile(path, edit, 0o600);
    process.stdout.write(`${said[outcome]} ${path} (machine ${machines.join(", machine ")})\n`);
    if (new URL(key).protocol !== "https:") {
      process.stderr.write(
        `protodepot: warning: go sends .netrc credentials over https only; ${key} is http (serve it with --tls-cert/--tls-key)\n`,
      );
    }
  }
  if (flags.pip !== undefined) {
    const path = flags.pip === true ? defaultPipConf(process.env, homedir()) : flags.pip;
    const outcome = await editFile(path, (text) => upsertPipConf(text, pipIndexUrl(key, token)), 0o600);
    process.stdout.write(`${said[outcome]} ${path} (extra-index-url ${key}/pypi/simple/)\n`);
  }
  if (flags.maven !== undefined) {
    const path = flags.maven === true ? defaultMavenSettings() : flags.maven;
    const settings = mavenSettingsFor(key, name, token);
    let foreign = false;
    const outcome = await editFile(
      path,
      (text) => {
        const next = upsertMavenSettings(text, settings);
        foreign = next === undefined;
        return next ?? text;
      },
      0o600,
    );
    if (foreign) {
      process.stderr.write(
        `protodepot: ${path} is a settings.xml of your own, left as it is: add (with your token as the password)\n${mavenSettingsSnippet(settings)}\n`,
      );
    } else process.stdout.write(`${said[outcome]} ${path} (repository ${settings.repositoryUrl})\n`);
  }
  if (flags.yarnrc !== undefined) {
    const path = flags.yarnrc === true ? defaultYarnrc() : flags.yarnrc;
    const registry = `${key}/npm/`;
    const outcome = await editFile(
      path,
      (text) => upsertYarnrc(text, { scope: npmScope, registry, token }),
      0o600,
    );
    process.stdout.write(`${said[outcome]} ${path} (@${npmScope} → ${registry}, no age gate)\n`);
  }
}

/** `protodepot whoami`: which user the chosen remote and token are, so a wrong login shows before a push fails. */
export function registerWhoami(program: CliCommand): void {
  program
    .command("whoami")
    .description("print the user the token belongs to, and the remote it was checked against")
    .remoteFlags()
    .action(async (flags: RemoteOptions) => {
      const remote = await openRemote(flags);
      if (!remote.token) {
        throw new Error(
          `no token for ${remote.url}: run 'protodepot login ${remote.url} --token-stdin' or set PROTODEPOT_TOKEN`,
        );
      }
      const { user } = await remote.client(UserService).whoAmI({});
      process.stdout.write(`${user?.name ?? ""}${user?.isAdmin ? " (admin)" : ""} at ${remote.url}\n`);
    });
}
