// `protodepot serve`: run the registry; `protodepot fsck`: check its storage. The only commands that open storage
// themselves (from the same config), so the only module of the CLI that imports server code.
import type { Command } from "commander";

interface ServeFlags {
  port?: string;
  host?: string;
  data?: string;
  config?: string;
  demo?: boolean;
  goHost?: string;
  npmScope?: string;
  workers?: string;
  tlsCert?: string;
  tlsKey?: string;
}

export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("run the registry (embedded SQLite + files by default)")
    .option("--port <n>", "port to listen on (0 = any free port)")
    .option("--host <h>", "address to listen on")
    .option("--data <dir>", "data directory for the embedded storage")
    .option("--config <file>", "YAML or JSON config file")
    .option("--demo", "push the demo modules on first start")
    .option("--go-host <name>", "first element of generated Go module paths")
    .option("--npm-scope <name>", "npm scope of generated packages")
    .option("--workers <n>", "processes serving the port: a number, or auto for one per core (default 1)")
    .option("--tls-cert <file>", "serve https with this PEM certificate (chain); needs --tls-key")
    .option("--tls-key <file>", "the PEM private key of --tls-cert")
    .action(async (flags: ServeFlags) => {
      // Loaded on demand: the server's dependencies would slow every other command's start.
      const { loadConfig } = await import("../../config/load.js");
      const cluster = await import("../../cluster/serve-workers.js");
      const workers =
        flags.workers === undefined || flags.workers === "auto" ? flags.workers : Number(flags.workers);
      const config = loadConfig({
        ...(flags.config ? { file: flags.config } : {}),
        overrides: {
          dataDir: flags.data,
          demo: flags.demo,
          server: {
            port: flags.port === undefined ? undefined : Number(flags.port),
            host: flags.host,
            workers,
            tls: { cert: flags.tlsCert, key: flags.tlsKey },
          },
          go: { host: flags.goHost },
          npm: { scope: flags.npmScope },
        },
      });
      // Plain lines on stdout for people and scripts; structured logs go through pino. The first token is printed
      // before the server listens, so a busy port cannot lose it (it is also kept in a 0600 file).
      const hooks = {
        onInitialAdminToken(token: string, file: string) {
          process.stdout.write(
            `admin token (shown once, store it): ${token}\n  kept in ${file} until revoked\n`,
          );
        },
      };
      const portTaken = (err: unknown): never => {
        if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
        const { host, port } = config.server;
        throw new Error(`${host}:${port} is already in use: pick a free port with --port N (0 = any)`);
      };
      if (cluster.isWorker()) return cluster.startWorker(config, hooks).catch(portTaken);
      const count = cluster.workerCount(config.server.workers);
      const server =
        count > 1
          ? await cluster.startPrimary(count, (line) => process.stderr.write(`${line}\n`))
          : await (await import("../../server.js")).startServer(config, hooks).catch(portTaken);
      process.stdout.write(`protodepot serving at ${server.url}${count > 1 ? ` (${count} workers)` : ""}\n`);
      if ("h2cUrl" in server && server.h2cUrl) process.stdout.write(`  gRPC (h2c) at ${server.h2cUrl}\n`);
      if (server.adminToken) {
        process.stdout.write(
          `  protodepot login ${server.url} --token-stdin < ${config.dataDir}/initial-admin-token\n`,
        );
      }
      const stop = async () => {
        await server.close();
        process.exit(0);
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
}

interface FsckFlags {
  data?: string;
  config?: string;
  repair?: boolean;
  json?: boolean;
}

export function registerFsck(program: Command): void {
  program
    .command("fsck")
    .description(
      "check every stored blob and row of the configured storage, and with --repair fix what can be fixed",
    )
    .option("--data <dir>", "data directory of the embedded storage")
    .option("--config <file>", "YAML or JSON config file (the one `serve` runs with)")
    .option(
      "--repair",
      "remove orphans, temp leftovers and damaged artifacts (regenerated on their next request), prune lease rows",
    )
    .option("--json", "print the report as JSON instead of lines")
    .addHelpText(
      "after",
      "\nRuns beside serving nodes: it removes only what nothing references and is older than\nstorage.blob.orphanGraceMs. Exits 1 when problems remain (damaged sources or images need a backup).",
    )
    .action(async (flags: FsckFlags) => {
      const { loadConfig } = await import("../../config/load.js");
      const { checkStorage, formatFsckSummary } = await import("../../server.js");
      const config = loadConfig({
        ...(flags.config ? { file: flags.config } : {}),
        overrides: { dataDir: flags.data },
      });
      const repair = flags.repair === true;
      const report = await checkStorage(config, {
        repair,
        ...(flags.json ? {} : { progress: (line: string) => process.stdout.write(`${line}\n`) }),
      });
      process.stdout.write(
        flags.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatFsckSummary(report, repair)}\n`,
      );
      if (report.unrepaired > 0) process.exitCode = 1;
    });
}
