// ModuleService: push, list and resolve modules, commits and labels.
import type { ServiceImpl } from "@connectrpc/connect";
import { Code, RegistryError } from "../core/errors.js";
import { parseFullName } from "../core/names.js";
import { parseBreakingCategory, parseLintCategories, parsePolicyAction } from "../core/push-policy.js";
import type { Label } from "../core/types.js";
import type { ModuleService, PushPolicy as PushPolicyMessage } from "../gen/protodepot/v1/module_pb.js";
import type { Principal } from "../services/auth.js";
import type { ModuleService as Modules, PushPolicyChange } from "../services/modules.js";
import type { PregenerateService } from "../services/pregenerate.js";
import { principal } from "./context.js";
import { commitMessage, labelMessage, moduleMessage, parseVisibility } from "./convert.js";

const maxPageSize = 250;
const moduleName = (text: string) => parseFullName("module", text);

/** The fields of a PushPolicy message that are set; empty strings and lists keep the current value. */
function policyChange(p: PushPolicyMessage): PushPolicyChange {
  return {
    ...(p.breaking ? { breaking: parsePolicyAction(p.breaking, "breaking") } : {}),
    ...(p.breakingCategory ? { breakingCategory: parseBreakingCategory(p.breakingCategory) } : {}),
    ...(p.lint ? { lint: parsePolicyAction(p.lint, "lint") } : {}),
    ...(p.lintCategories.length ? { lintCategories: parseLintCategories(p.lintCategories) } : {}),
  };
}

type Impl = ServiceImpl<typeof ModuleService>;

type Deps = { modules: Modules; pregenerate: PregenerateService | undefined };

async function withSeq(d: Deps, caller: Principal, name: ReturnType<typeof moduleName>, label: Label) {
  const commit = await d.modules.resolveRef(caller, name, label.commitId);
  return labelMessage(label, commit.seq);
}

async function push(
  d: Deps,
  ...[req, ctx]: Parameters<Impl["push"]>
): Promise<Awaited<ReturnType<Impl["push"]>>> {
  const visibility = parseVisibility(req.visibility);
  const caller = await principal(ctx);
  const { commit, created, warnings } = await d.modules.push(caller, {
    ...(req.module ? { module: req.module } : {}),
    files: req.files.map((f) => ({ path: f.path, content: f.content })),
    label: req.label,
    ...(visibility ? { visibility } : {}),
    allowBreaking: req.allowBreaking,
  });
  return { commit: commitMessage(commit, await d.modules.commitDeps(commit)), created, warnings };
}

async function listModules(
  d: Deps,
  ...[req, ctx]: Parameters<Impl["listModules"]>
): Promise<Awaited<ReturnType<Impl["listModules"]>>> {
  return {
    modules: (await d.modules.listModules(await principal(ctx), req.owner || undefined)).map(moduleMessage),
  };
}

async function createModule(
  d: Deps,
  ...[req, ctx]: Parameters<Impl["createModule"]>
): Promise<Awaited<ReturnType<Impl["createModule"]>>> {
  const visibility = parseVisibility(req.visibility);
  const mod = await d.modules.createModule(await principal(ctx), moduleName(req.module), {
    ...(visibility ? { visibility } : {}),
    defaultLabel: req.defaultLabel,
  });
  return { module: moduleMessage(mod) };
}

async function updateModule(
  d: Deps,
  ...[req, ctx]: Parameters<Impl["updateModule"]>
): Promise<Awaited<ReturnType<Impl["updateModule"]>>> {
  const visibility = parseVisibility(req.visibility);
  const caller = await principal(ctx);
  const name = moduleName(req.module);
  // The policy is checked whole before anything changes, so a bad value leaves the visibility as it was.
  const change = req.policy ? policyChange(req.policy) : undefined;
  if (req.undeprecate && req.deprecationMessage !== undefined) {
    throw new RegistryError(Code.InvalidArgument, "deprecate or undeprecate, not both");
  }
  const mod = await d.modules.updateModule(caller, name, {
    ...(visibility ? { visibility } : {}),
    ...(req.description !== undefined ? { description: req.description } : {}),
    ...(req.defaultLabel !== undefined ? { defaultLabel: req.defaultLabel } : {}),
    ...(req.deprecationMessage !== undefined ? { deprecation: req.deprecationMessage } : {}),
    ...(req.undeprecate ? { deprecation: null } : {}),
  });
  const label = req.policy?.label ?? "";
  const policy = change
    ? await d.modules.setPushPolicy(caller, name, label, change)
    : await d.modules.getPushPolicy(caller, name, label);
  if (!d.pregenerate) return { module: moduleMessage(mod), policy };
  const templates =
    req.clearPregenerate || req.pregenerate.length > 0
      ? await d.pregenerate.set(caller, name, req.pregenerate)
      : await d.pregenerate.list(caller, name);
  return {
    module: moduleMessage(mod),
    policy,
    pregenerate: templates.map((t) => `${t.owner}/${t.name}`),
  };
}

async function listCommits(
  d: Deps,
  ...[req, ctx]: Parameters<Impl["listCommits"]>
): Promise<Awaited<ReturnType<Impl["listCommits"]>>> {
  const pageSize = Math.min(req.pageSize || 50, maxPageSize);
  let beforeSeq: number | undefined;
  if (req.pageToken) {
    beforeSeq = Number(req.pageToken);
    if (!Number.isSafeInteger(beforeSeq) || beforeSeq < 1) {
      throw new RegistryError(Code.InvalidArgument, `invalid page token "${req.pageToken}"`);
    }
  }
  const commits = await d.modules.listCommits(await principal(ctx), moduleName(req.module), {
    limit: pageSize,
    ...(beforeSeq !== undefined ? { beforeSeq } : {}),
  });
  const last = commits[commits.length - 1];
  return {
    commits: commits.map((c) => commitMessage(c)),
    nextPageToken: commits.length === pageSize && last && last.seq > 1 ? String(last.seq) : "",
  };
}

async function getCommit(
  d: Deps,
  ...[req, ctx]: Parameters<Impl["getCommit"]>
): Promise<Awaited<ReturnType<Impl["getCommit"]>>> {
  const commit = await d.modules.resolveRef(await principal(ctx), moduleName(req.module), req.ref);
  return { commit: commitMessage(commit, await d.modules.commitDeps(commit)) };
}

async function listCommitFiles(
  d: Deps,
  ...[req, ctx]: Parameters<Impl["listCommitFiles"]>
): Promise<Awaited<ReturnType<Impl["listCommitFiles"]>>> {
  const commit = await d.modules.resolveRef(await principal(ctx), moduleName(req.module), req.ref);
  const files = await d.modules.listCommitFiles(commit);
  return {
    commit: commitMessage(commit),
    files: files.map((f) => ({ path: f.path, size: BigInt(f.size), sha256: f.sha256 })),
  };
}

async function listLabels(
  d: Deps,
  ...[req, ctx]: Parameters<Impl["listLabels"]>
): Promise<Awaited<ReturnType<Impl["listLabels"]>>> {
  const caller = await principal(ctx);
  const name = moduleName(req.module);
  const labels = await d.modules.listLabels(caller, name);
  return { labels: await Promise.all(labels.map((l) => withSeq(d, caller, name, l))) };
}

async function createLabel(
  d: Deps,
  ...[req, ctx]: Parameters<Impl["createLabel"]>
): Promise<Awaited<ReturnType<Impl["createLabel"]>>> {
  const name = moduleName(req.module);
  const caller = await principal(ctx);
  const label = await d.modules.setLabel(caller, name, req.label, req.ref, "create");
  return { label: await withSeq(d, caller, name, label) };
}

async function moveLabel(
  d: Deps,
  ...[req, ctx]: Parameters<Impl["moveLabel"]>
): Promise<Awaited<ReturnType<Impl["moveLabel"]>>> {
  const name = moduleName(req.module);
  const caller = await principal(ctx);
  const label = await d.modules.setLabel(caller, name, req.label, req.ref, "move");
  return { label: await withSeq(d, caller, name, label) };
}

export function createModuleServiceImpl(modules: Modules, pregenerate?: PregenerateService): Impl {
  const d: Deps = { modules, pregenerate };
  return {
    push: (req, ctx) => push(d, req, ctx),
    listModules: (req, ctx) => listModules(d, req, ctx),
    createModule: (req, ctx) => createModule(d, req, ctx),
    updateModule: (req, ctx) => updateModule(d, req, ctx),
    deleteModule: async (req, ctx) => {
      await d.modules.deleteModule(await principal(ctx), moduleName(req.module));
      return {};
    },
    listCommits: (req, ctx) => listCommits(d, req, ctx),
    getCommit: (req, ctx) => getCommit(d, req, ctx),
    listCommitFiles: (req, ctx) => listCommitFiles(d, req, ctx),
    listLabels: (req, ctx) => listLabels(d, req, ctx),
    createLabel: (req, ctx) => createLabel(d, req, ctx),
    moveLabel: (req, ctx) => moveLabel(d, req, ctx),
  };
}
