// Pre-generation: a module (or a whole organization) subscribes templates, and right after each push their
// artifacts are generated in the background, so the first `npm install` / `go get` / archive download after a push
// is a cache hit.
import { type FullName, parseFullName } from "../core/names.js";
import { pluginEcosystem } from "../core/plugin-ecosystem.js";
import type { Commit, Flavour, PluginVersion, Template } from "../core/types.js";
import { isGoPlugin } from "../generate/plugin-options.js";
import type { PregenerateStore } from "../storage/meta/metadata-store.js";
import type { AccessPolicy } from "./access.js";
import type { AuditTrail } from "./audit.js";
import type { Principal } from "./auth.js";
import type { GenerationService } from "./generation.js";
import type { ModuleService } from "./modules.js";
import type { TemplateService } from "./templates.js";

export interface PregenerateService {
  /** Replaces the module's subscribed templates (`owner/name` each); an empty list unsubscribes. */
  set(principal: Principal, module: FullName, templates: readonly string[]): Promise<Template[]>;
  list(principal: Principal, module: FullName): Promise<Template[]>;
  /** Replaces the templates pre-generated for every module of an organization (its owners only). */
  setForOwner(principal: Principal, owner: string, templates: readonly string[]): Promise<Template[]>;
  listForOwner(principal: Principal, owner: string): Promise<Template[]>;
  /**
   * Starts the subscribed generations for a fresh commit and returns at once: the push never waits for plugins.
   * Failures are logged; a later request generates on demand (nothing is cached from a failed run).
   */
  afterPush(principal: Principal, commit: Commit): void;
  /** Resolves when every generation started so far has settled (tests, shutdown). */
  idle(): Promise<void>;
  /** Starts nothing more; what runs finishes for the cache. Resolves when it has. */
  close(): Promise<void>;
}

export interface PregenerateOptions {
  meta: PregenerateStore;
  access: AccessPolicy;
  modules: ModuleService;
  templates: TemplateService;
  generation: Pick<GenerationService, "resolve" | "generate">;
  log: { warn(fields: object, message: string): void; info(fields: object, message: string): void };
  /** Where changes of the lists are recorded (docs/audit.md). */
  audit?: Pick<AuditTrail, "record"> | undefined;
}

/**
 * The registries a template's output suits: archives always, Go modules for Go plugins, npm, PyPI, Maven, RubyGems
 * and Cargo for plugins with runtime libraries there, CMake archives for C++ plugins (protoc's cpp, or a plugin
 * declaring the ecosystem `cpp`, as the gRPC C++ plugin does).
 */
export function flavoursFor(plugins: readonly PluginVersion[]): Flavour[] {
  const flavours: Flavour[] = ["archive"];
  if (plugins.some(isGoPlugin)) flavours.push("go");
  if (plugins.some((p) => (p.runtimeLibraries.npm?.length ?? 0) > 0)) flavours.push("npm");
  if (plugins.some((p) => (p.runtimeLibraries.python?.length ?? 0) > 0)) flavours.push("pypi");
  if (plugins.some((p) => (p.runtimeLibraries.maven?.length ?? 0) > 0)) flavours.push("maven");
  if (plugins.some((p) => (p.runtimeLibraries.ruby?.length ?? 0) > 0)) flavours.push("rubygems");
  if (plugins.some((p) => (p.runtimeLibraries.rust?.length ?? 0) > 0)) flavours.push("cargo");
  if (plugins.some((p) => pluginEcosystem(p) === "cpp")) flavours.push("cmake");
  return flavours;
}

/** Every flavour of one subscribed template's newest version over `commit`, one at a time, in the background. */
async function pregenerateTemplate(
  opts: PregenerateOptions,
  principal: Principal,
  commit: Commit,
  template: Template,
  closed: () => boolean,
): Promise<void> {
  const { templates, generation, log } = opts;
  const where = {
    module: `${commit.owner}/${commit.module}`,
    commit: commit.id,
    template: `${template.owner}/${template.name}`,
  };
  try {
    const versions = await templates.listVersions(principal, where.template);
    const newest = versions[versions.length - 1];
    if (!newest) return;
    const plugins = await templates.resolvePlugins(principal, template, newest);
    for (const flavour of flavoursFor(plugins.map((p) => p.version))) {
      if (closed()) return;
      const started = performance.now();
      // One at a time and at background priority: requests never queue behind pre-generation.
      const resolved = await generation.resolve(principal, {
        template: { owner: template.owner, name: template.name },
        templateVersion: newest.number,
        module: { owner: commit.owner, name: commit.module },
        commit: { ref: commit.id },
        scope: "module",
        flavour,
      });
      await generation.generate(resolved, { background: true });
      log.info({ ...where, flavour, ms: Math.round(performance.now() - started) }, "pre-generation finished");
    }
  } catch (err) {
    log.warn({ err, ...where }, "pre-generation failed; the first request will generate it");
  }
}

/**
 * Replaces a subscription list (a module's or an owner's) with the named templates, each one the caller may read
 * (nobody subscribes to what they cannot see); a change is audited. Returns the list as stored.
 */
async function replaceSubscriptions(
  opts: PregenerateOptions,
  principal: Principal,
  names: readonly string[],
  target: {
    list: () => Promise<Template[]>;
    store: (templateIds: string[]) => Promise<void>;
    event: { action: string; target: string; owner: string };
  },
): Promise<Template[]> {
  const resolved = await Promise.all(
    names.map((n) => opts.templates.getTemplate(principal, parseFullName("template", n))),
  );
  const before = (await target.list()).map((t) => `${t.owner}/${t.name}`);
  await target.store(resolved.map((t) => t.id));
  const after = resolved.map((t) => `${t.owner}/${t.name}`);
  if (before.join() !== after.join()) await opts.audit?.record(principal, { ...target.event, before, after });
  return target.list();
}

export function createPregenerateService(opts: PregenerateOptions): PregenerateService {
  const { meta, access, modules, log } = opts;
  const running = new Set<Promise<void>>();
  let closed = false;

  async function generateAll(principal: Principal, commit: Commit): Promise<void> {
    // The module's own list first, then its owner's; a template on both runs once.
    const lists = await Promise.all([
      meta.listPregenerate(commit.moduleId),
      meta.listOwnerPregenerate(commit.owner),
    ]);
    const subscribed = [...new Map(lists.flat().map((t) => [t.id, t])).values()];
    for (const template of subscribed) {
      if (closed) return;
      await pregenerateTemplate(opts, principal, commit, template, () => closed);
    }
  }

  return {
    async set(principal, module, names) {
      await access.requireWrite(principal, module.owner, "change modules", module.name);
      const mod = await modules.getModule(principal, module);
      return replaceSubscriptions(opts, principal, names, {
        list: () => meta.listPregenerate(mod.id),
        store: (ids) => meta.setPregenerate(mod.id, ids),
        event: { action: "module.pregenerate", target: `${mod.owner}/${mod.name}`, owner: mod.owner },
      });
    },

    async list(principal, module) {
      const mod = await modules.getModule(principal, module);
      return meta.listPregenerate(mod.id);
    },

    async setForOwner(principal, owner, names) {
      await access.requireManage(principal, owner, "change the pre-generated templates");
      return replaceSubscriptions(opts, principal, names, {
        list: () => meta.listOwnerPregenerate(owner),
        store: (ids) => meta.setOwnerPregenerate(owner, ids),
        event: { action: "owner.pregenerate", target: owner, owner },
      });
    },

    async listForOwner(principal, owner) {
      await access.requireWrite(principal, owner, "see the pre-generated templates");
      return meta.listOwnerPregenerate(owner);
    },

    afterPush(principal, commit) {
      if (closed) return;
      const run = generateAll(principal, commit).catch((err: unknown) =>
        log.warn({ err, commit: commit.id }, "pre-generation failed"),
      );
      running.add(run);
      void run.finally(() => running.delete(run));
    },

    async idle() {
      while (running.size > 0) await Promise.allSettled([...running]);
    },

    async close() {
      closed = true;
      while (running.size > 0) await Promise.allSettled([...running]);
    },
  };
}
