// The `protodepot` command line: every command but `serve` and `fsck` talks to a registry through its API.
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { isRegistryError } from "../core/errors.js";
import { CliCommand } from "./command.js";
import { addExamples } from "./examples.js";

type Register = (program: CliCommand) => void;

/**
 * Top-level commands, each loaded only when it runs: `protodepot --help` and a command's start load no
 * other command's dependencies (Connect, zod, the YAML parser). The summaries are what `--help` lists; a test
 * checks that each matches the command's own description.
 */
export const commands: Readonly<Record<string, { summary: string; load: () => Promise<Register> }>> = {
  serve: {
    summary: "run the registry (embedded SQLite + files by default)",
    load: async () => (await import("./commands/serve.js")).registerServe,
  },
  fsck: {
    summary:
      "check every stored blob and row of the configured storage, and with --repair fix what can be fixed",
    load: async () => (await import("./commands/serve.js")).registerFsck,
  },
  login: {
    summary:
      "check a token against a remote (or sign in with --sso), store it for later commands, and optionally set up npm, go, buf, pip, Maven and Yarn",
    load: async () => (await import("./commands/login.js")).registerLogin,
  },
  account: {
    summary: "list or unlink your linked sign-in accounts (OpenID Connect)",
    load: async () => (await import("./commands/account.js")).registerAccount,
  },
  whoami: {
    summary: "print the user the token belongs to, and the remote it was checked against",
    load: async () => (await import("./commands/login.js")).registerWhoami,
  },
  push: {
    summary: "push a module directory (with buf.yaml) as a new commit",
    load: async () => (await import("./commands/push.js")).registerPush,
  },
  user: {
    summary: "manage users (admin)",
    load: async () => (await import("./commands/users.js")).registerUsers,
  },
  token: { summary: "manage tokens", load: async () => (await import("./commands/users.js")).registerUsers },
  bot: {
    summary: "manage an organization's bots (service accounts) and their tokens",
    load: async () => (await import("./commands/bots.js")).registerBots,
  },
  audit: {
    summary: "read the audit log",
    load: async () => (await import("./commands/audit.js")).registerAudit,
  },
  quota: {
    summary: "show or set an owner's quotas of modules, commits and plugin images",
    load: async () => (await import("./commands/quotas.js")).registerQuotas,
  },
  webhook: {
    summary: "manage webhooks: events POSTed to a URL, signed",
    load: async () => (await import("./commands/webhooks.js")).registerWebhooks,
  },
  org: {
    summary: "manage organizations and their members",
    load: async () => (await import("./commands/orgs.js")).registerOrgs,
  },
  module: {
    summary: "list, create and change modules",
    load: async () => (await import("./commands/modules.js")).registerModules,
  },
  commit: {
    summary: "list commits",
    load: async () => (await import("./commands/modules.js")).registerModules,
  },
  label: {
    summary: "list, create and move labels",
    load: async () => (await import("./commands/modules.js")).registerModules,
  },
  plugin: {
    summary: "manage code generator plugins",
    load: async () => (await import("./commands/plugins.js")).registerPlugins,
  },
  template: {
    summary: "manage templates (plugins + parameters)",
    load: async () => (await import("./commands/templates.js")).registerTemplates,
  },
};

const packageJson = new URL("../../package.json", import.meta.url);

export function version(): string {
  const parsed = JSON.parse(readFileSync(packageJson, "utf8")) as { version?: unknown };
  return typeof parsed.version === "string" ? parsed.version : "unknown";
}

/**
 * The program with every command that `argv` may run registered in full, the others as summaries only;
 * `all` registers every command in full (for tests and documentation).
 */
export async function buildProgram(argv: readonly string[], all = false): Promise<Command> {
  const program = new CliCommand("protodepot")
    .description("protodepot: a self-hosted Protobuf schema registry")
    .version(version(), "-V, --version", "print the version of protodepot")
    .showHelpAfterError()
    .showSuggestionAfterError();
  const wanted = argv.find((a) => !a.startsWith("-"));
  const helpFor = wanted === "help" ? argv.filter((a) => !a.startsWith("-"))[1] : wanted;
  const entry = helpFor === undefined ? undefined : commands[helpFor];
  const loads = all ? Object.values(commands) : entry ? [entry] : [];
  for (const register of new Set(await Promise.all(loads.map((c) => c.load())))) register(program);
  addExamples(program);
  const registered = new Set(program.commands.map((c) => c.name()));
  for (const [name, { summary }] of Object.entries(commands)) {
    if (!registered.has(name)) program.command(name).description(summary);
  }
  return program;
}

/** One line of reason (plus compiler lines when there are some), never a stack trace. */
export function reasonOf(err: unknown): string {
  // By name: importing ConnectError would load Connect before any command needs it.
  if (err instanceof Error && err.name === "ConnectError" && "rawMessage" in err) {
    const raw = String(err.rawMessage);
    const refused = /ECONNREFUSED (\S+)/.exec(raw);
    if (refused) {
      return `nothing answers at ${refused[1]} (connection refused): start the registry with 'protodepot serve', or point --remote, PROTODEPOT_REMOTE or 'protodepot login' at it`;
    }
    return withTlsHint(raw);
  }
  if (isRegistryError(err)) {
    // Some messages already list their details (invalid configuration): print each line once.
    const extra = (err.fields.details ?? []).filter((d) => !err.message.includes(d));
    return [err.message, ...extra].join("\n");
  }
  if (err instanceof Error) {
    // fetch (plugin push) says only "fetch failed"; the reason is its cause.
    const cause =
      err.message === "fetch failed" && err.cause instanceof Error ? `: ${err.cause.message}` : "";
    return withTlsHint(`${err.message}${cause}`);
  }
  return String(err);
}

/** Node's words for a certificate it does not trust (a self-signed or private CA's). */
const untrusted =
  /self[- ]signed certificate|unable to verify the first certificate|unable to get local issuer certificate|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE/i;

function withTlsHint(reason: string): string {
  if (!untrusted.test(reason)) return reason;
  return `${reason}: the server's certificate is not one Node trusts; point NODE_EXTRA_CA_CERTS at its CA certificate (a PEM file), e.g. NODE_EXTRA_CA_CERTS=/path/to/ca.crt protodepot …`;
}

export async function main(argv: readonly string[]): Promise<void> {
  try {
    const program = await buildProgram(argv.slice(2));
    await program.parseAsync([...argv]);
  } catch (err) {
    process.stderr.write(`protodepot: ${reasonOf(err)}\n`);
    process.exitCode = 1;
  }
}
