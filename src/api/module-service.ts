// ModuleService: push, list and resolve modules, commits and labels.
import type { ServiceImpl } from "@connectrpc/connect";
import { Code, RegistryError } from "../core/errors.js";
import { parseFullName } from "../core/names.js";
import type { Label } from "../core/types.js";
import type { ModuleService } from "../gen/protodepot/v1/module_pb.js";
import type { ModuleService as Modules } from "../services/modules.js";
import { principal } from "./context.js";
import { commitMessage, labelMessage, moduleMessage } from "./convert.js";

const maxPageSize = 250;
const moduleName = (text: string) => parseFullName("module", text);

export function createModuleServiceImpl(modules: Modules): ServiceImpl<typeof ModuleService> {
  async function withSeq(name: ReturnType<typeof moduleName>, label: Label) {
    const commit = await modules.resolveRef(name, label.commitId);
    return labelMessage(label, commit.seq);
  }

  return {
    async push(req, ctx) {
      const { commit, created } = await modules.push(await principal(ctx), {
        ...(req.module ? { module: req.module } : {}),
        files: req.files.map((f) => ({ path: f.path, content: f.content })),
        label: req.label,
      });
      return { commit: commitMessage(commit, await modules.commitDeps(commit)), created };
    },

    async listModules(req) {
      return { modules: (await modules.listModules(req.owner || undefined)).map(moduleMessage) };
    },

    async listCommits(req) {
      const pageSize = Math.min(req.pageSize || 50, maxPageSize);
      let beforeSeq: number | undefined;
      if (req.pageToken) {
        beforeSeq = Number(req.pageToken);
        if (!Number.isSafeInteger(beforeSeq) || beforeSeq < 1) {
          throw new RegistryError(Code.InvalidArgument, `invalid page token "${req.pageToken}"`);
        }
      }
      const commits = await modules.listCommits(moduleName(req.module), {
        limit: pageSize,
        ...(beforeSeq !== undefined ? { beforeSeq } : {}),
      });
      const last = commits[commits.length - 1];
      return {
        commits: commits.map((c) => commitMessage(c)),
        nextPageToken: commits.length === pageSize && last && last.seq > 1 ? String(last.seq) : "",
      };
    },

    async getCommit(req) {
      const commit = await modules.resolveRef(moduleName(req.module), req.ref);
      return { commit: commitMessage(commit, await modules.commitDeps(commit)) };
    },

    async listCommitFiles(req) {
      const commit = await modules.resolveRef(moduleName(req.module), req.ref);
      const files = await modules.listCommitFiles(commit);
      return {
        commit: commitMessage(commit),
        files: files.map((f) => ({ path: f.path, size: BigInt(f.size), sha256: f.sha256 })),
      };
    },

    async listLabels(req) {
      const name = moduleName(req.module);
      const labels = await modules.listLabels(name);
      return { labels: await Promise.all(labels.map((l) => withSeq(name, l))) };
    },

    async createLabel(req, ctx) {
      const name = moduleName(req.module);
      const label = await modules.setLabel(await principal(ctx), name, req.label, req.ref, "create");
      return { label: await withSeq(name, label) };
    },

    async moveLabel(req, ctx) {
      const name = moduleName(req.module);
      const label = await modules.setLabel(await principal(ctx), name, req.label, req.ref, "move");
      return { label: await withSeq(name, label) };
    },
  };
}
