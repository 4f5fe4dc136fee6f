// The quick start's demo: pushes examples/money and examples/payments once, so a newcomer has something to fetch.
import { fileURLToPath } from "node:url";
import { Code, isRegistryError } from "../core/errors.js";
import type { ModuleStore, UserStore } from "../storage/meta/metadata-store.js";
import { readModuleDir } from "../workspace/module-dir.js";
import type { ModuleService } from "./modules.js";
import type { OrganizationService } from "./organizations.js";

const examples = fileURLToPath(new URL("../../examples/", import.meta.url));

/** Dependency first. */
export const demoModules = [
  { dir: "money", name: "demo/money" },
  { dir: "payments", name: "demo/payments" },
] as const;

export async function seedDemo(
  services: { modules: ModuleService; orgs: OrganizationService },
  meta: Pick<UserStore, "getUserByName"> & Pick<ModuleStore, "getModule">,
  log: { info(fields: object, message: string): void },
): Promise<void> {
  const admin = await meta.getUserByName("admin");
  if (!admin) return;
  for (const demo of demoModules) {
    const [owner = "", name = ""] = demo.name.split("/");
    if (await meta.getModule(owner, name)) continue;
    await services.orgs.ensure(admin, owner);
    const files = await readModuleDir(`${examples}${demo.dir}`);
    try {
      // Public whatever the server's default: the demo is there for everyone to fetch.
      const { commit } = await services.modules.push(
        { user: admin },
        { module: demo.name, files, visibility: "public" },
      );
      log.info({ module: demo.name, commit: commit.id, seq: commit.seq }, "demo module pushed");
    } catch (err) {
      // Another node starting at the same moment pushed it first; its commit is the demo.
      if (!isRegistryError(err, Code.AlreadyExists) || !(await meta.getModule(owner, name))) throw err;
    }
  }
}
