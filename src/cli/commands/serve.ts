// `protodepot serve`: run the registry.
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
