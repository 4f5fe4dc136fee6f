// Start-up setup: the admin (and the first start's token, kept on disk), the built-in plugins and the demo.
import { existsSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { FastifyBaseLogger } from "fastify";
import type { Config } from "../config/schema.js";
import type { AuthService } from "../services/auth.js";
import { registerBuiltins } from "../services/builtins.js";
import { seedDemo } from "../services/demo.js";
import { withStartupLease } from "../services/startup.js";
import type { MetadataStore } from "../storage/meta/metadata-store.js";
import type { Execution } from "./execution.js";
import type { Services } from "./services.js";

export interface StartHooks {
  /**
   * Called with the admin's first token as soon as it exists, before anything else can fail (a busy port, say),
   * and with the file that keeps it until it is revoked.
   */
  onInitialAdminToken?(token: string, file: string): void;
}

/** The first start's admin token, kept beside the data (mode 0600) so a failed first start never loses it. */
const initialAdminTokenFile = (config: Config) => resolve(config.dataDir, "initial-admin-token");

async function keepInitialAdminToken(config: Config, auth: AuthService, secret: string | undefined) {
  const file = initialAdminTokenFile(config);
  if (secret) {
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, `${secret}\n`, { mode: 0o600 });
    renameSync(temp, file);
    return;
  }
  if (!existsSync(file)) return;
  // Once that token is revoked (an admin made their own), the file has done its job.
  const kept = readFileSync(file, "utf8").trim();
  const valid = await auth.authenticate(`Bearer ${kept}`).then(
    () => true,
    () => false,
  );
  if (!valid) unlinkSync(file);
}

export interface SetupParts {
  services: Services;
  execution: Execution;
  meta: MetadataStore;
  log: FastifyBaseLogger;
}

/**
 * Ensures the admin, registers the built-ins and seeds the demo. Nodes sharing one database take turns (a lease),
 * and each step is idempotent on its own. Returns the admin's token when this start created it.
 */
export async function runSetup(
  config: Config,
  hooks: StartHooks,
  parts: SetupParts,
): Promise<{ secret?: string }> {
  const { services, execution, meta, log } = parts;
  const { auth, orgs, plugins, templates, modules } = services;
  return withStartupLease(
    meta,
    async () => {
      const admin = await auth.ensureAdmin(config.adminToken);
      await keepInitialAdminToken(config, auth, admin.secret);
      if (admin.secret) hooks.onInitialAdminToken?.(admin.secret, initialAdminTokenFile(config));
      const adminUser = await meta.getUserByName("admin");
      if (config.builtinPlugins && adminUser) {
        const names = await registerBuiltins(
          adminUser,
          { orgs, plugins, templates },
          { protoc: execution.protoc },
        );
        log.info({ templates: names }, "built-in templates ready");
      }
      if (config.demo) await seedDemo({ modules, orgs }, meta, log);
      return admin;
    },
    { onWait: () => log.info("waiting for another node's start-up setup") },
  );
}
