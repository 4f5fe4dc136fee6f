// buf.registry.module.v1 CommitService, GraphService and DownloadService: what `buf dep update` and `buf build`
// read. The graph's edges and the downloaded files are exactly what each commit's b5 digest covers.
import type { ServiceImpl } from "@connectrpc/connect";
import { principal } from "../../api/context.js";
import { b5Files } from "../../compile/b5-digest.js";
import type {
  CommitService,
  DownloadService,
  GraphService,
} from "../../gen/buf/registry/module/v1/commit_pb.js";
import type { ModuleService } from "../../services/modules.js";
import { commitMessage } from "./convert.js";
import { checkRefCount, commitGraph, resolveResourceRef } from "./resource-ref.js";

export function createCommitService(modules: ModuleService): ServiceImpl<typeof CommitService> {
  return {
    async getCommits(req, ctx) {
      checkRefCount(req.resourceRefs.length);
      const caller = await principal(ctx);
      const commits = [];
      for (const ref of req.resourceRefs) {
        const c = await resolveResourceRef(modules, caller, ref);
        commits.push(commitMessage(c, (await modules.b5Of(c)).digest));
      }
      return { commits };
    },
  };
}

export function createGraphService(modules: ModuleService): ServiceImpl<typeof GraphService> {
  return {
    async getGraph(req, ctx) {
      checkRefCount(req.resourceRefs.length);
      const nodes = await commitGraph(modules, await principal(ctx), req.resourceRefs);
      return {
        graph: {
          commits: nodes.map((n) => commitMessage(n.commit, n.b5)),
          edges: nodes.flatMap((n) =>
            n.deps.map((to) => ({ fromNode: { commitId: n.commit.id }, toNode: { commitId: to } })),
          ),
        },
      };
    },
  };
}

export function createDownloadService(modules: ModuleService): ServiceImpl<typeof DownloadService> {
  return {
    async download(req, ctx) {
      checkRefCount(req.values.length);
      const caller = await principal(ctx);
      const contents = [];
      for (const v of req.values) {
        const commit = await resolveResourceRef(modules, caller, v.resourceRef);
        const files = b5Files(await modules.readFiles(commit));
        contents.push({
          commit: commitMessage(commit, (await modules.b5Of(commit)).digest),
          files: files.map((f) => ({ path: f.path, content: f.content })),
        });
      }
      return { contents };
    },
  };
}
