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

export function createModuleServiceImpl(
  modules: Modules,
  pregenerate?: PregenerateService,
): ServiceImpl<typeof ModuleService> {
  async function withSeq(caller: Principal, name: ReturnType<typeof moduleName>, label: Label) {
    const commit = await modules.resolveRef(caller, name, label.commitId);
    return labelMessage(label, commit.seq);
  }

  return {
    async push(req, ctx) {
      const visibility = parseVisibility(req.visibility);
      const caller = await principal(ctx);
      const { commit, created, warnings } = await modules.push(caller, {
        ...(req.module ? { module: req.module } : {}),
        files: req.files.map((f) => ({ path: f.path, content: f.content })),
        label: req.label,
        ...(visibility ? { visibility } : {}),
        allowBreaking: req.allowBreaking,
      });
      return { commit: commitMessage(commit, await modules.commitDeps(commit)), created, warnings };
    },

    async listModules(req, ctx) {
      return {
        modules: (await modules.listModules(await principal(ctx), req.owner || undefined)).map(moduleMessage),
      };
    },

    async createModule(req, ctx) {
      const visibility = parseVisibility(req.visibility);
      const mod = await modules.createModule(await principal(ctx), moduleName(req.module), {
        ...(visibility ? { visibility } : {}),
        defaultLabel: req.defaultLabel,
      });
      return { module: moduleMessage(mod) };
    },

    async updateModule(req, ctx) {
      const visibility = parseVisibility(req.visibility);
      const caller = await principal(ctx);
      const name = moduleName(req.module);
      // The policy is checked whole before anything changes, so a bad value leaves the visibility as it was.
      const change = req.policy ? policyChange(req.policy) : undefined;
      if (req.undeprecate && req.deprecationMessage !== undefined) {
        throw new RegistryError(Code.InvalidArgument, "deprecate or undeprecate, not both");
      }
      const mod = await modules.updateModule(caller, name, {
        ...(visibility ? { visibility } : {}),
        ...(req.description !== undefined ? { description: req.description } : {}),
        ...(req.defaultLabel !== undefined ? { defaultLabel: req.defaultLabel } : {}),
        ...(req.deprecationMessage !== undefined ? { deprecation: req.deprecationMessage } : {}),
        ...(req.undeprecate ? { deprecation: null } : {}),
      });
      const label = req.policy?.label ?? "";
      const policy = change
        ? await modules.setPushPolicy(caller, name, label, change)
        : await modules.getPushPolicy(caller, name, label);
      if (!pregenerate) return { module: moduleMessage(mod), policy };
      const templates =
        req.clearPregenerate || req.pregenerate.length > 0
          ? await pregenerate.set(caller, name, req.pregenerate)
          : await pregenerate.list(caller, name);
      return {
        module: moduleMessage(mod),
        policy,
        pregenerate: templates.map((t) => `${t.owner}/${t.name}`),
      };
    },

    async listCommits(req, ctx) {
      const pageSize = Math.min(req.pageSize || 50, maxPageSize);
      let beforeSeq: number | undefined;
      if (req.pageToken) {
        beforeSeq = Number(req.pageToken);
        if (!Number.isSafeInteger(beforeSeq) || beforeSeq < 1) {
          throw new RegistryError(Code.InvalidArgument, `invalid page token "${req.pageToken}"`);
        }
      }
      const commits = await modules.listCommits(await principal(ctx), moduleName(req.module), {
        limit: pageSize,
        ...(beforeSeq !== undefined ? { beforeSeq } : {}),
      });
      const last = commits[commits.length - 1];
      return {
        commits: commits.map((c) => commitMessage(c)),
        nextPageToken: commits.length === pageSize && last && last.seq > 1 ? String(last.seq) : "",
      };
    },

    async getCommit(req, ctx) {
      const commit = await modules.resolveRef(await principal(ctx), moduleName(req.module), req.ref);
      return { commit: commitMessage(commit, await modules.commitDeps(commit)) };
    },

    async listCommitFiles(req, ctx) {
      const commit = await modules.resolveRef(await principal(ctx), moduleName(req.module), req.ref);
      const files = await modules.listCommitFiles(commit);
      return {
        commit: commitMessage(commit),
        files: files.map((f) => ({ path: f.path, size: BigInt(f.size), sha256: f.sha256 })),
      };
    },

    async listLabels(req, ctx) {
      const caller = await principal(ctx);
      const name = moduleName(req.module);
      const labels = await modules.listLabels(caller, name);
      return { labels: await Promise.all(labels.map((l) => withSeq(caller, name, l))) };
    },

    async createLabel(req, ctx) {
      const name = moduleName(req.module);
      const caller = await principal(ctx);
      const label = await modules.setLabel(caller, name, req.label, req.ref, "create");
      return { label: await withSeq(caller, name, label) };
    },

    async moveLabel(req, ctx) {
      const name = moduleName(req.module);
      const caller = await principal(ctx);
      const label = await modules.setLabel(caller, name, req.label, req.ref, "move");
      return { label: await withSeq(caller, name, label) };
    },
  };
}
