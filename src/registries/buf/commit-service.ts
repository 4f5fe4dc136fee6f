// buf.registry.module.v1 CommitService, GraphService and DownloadService: what `buf dep update` and `buf build`
// read. The graph's edges and the downloaded files are exactly what each commit's b5 digest covers.
import type { ServiceImpl } from "@connectrpc/connect";
import { principal } from "../../api/context.js";
import { b5Files } from "../../compile/b5-digest.js";
import { Code, RegistryError } from "../../core/errors.js";
import type { Commit } from "../../core/types.js";
import type {
  CommitService,
  DownloadService,
  GraphService,
} from "../../gen/buf/registry/module/v1/commit_pb.js";
import type { ModuleService } from "../../services/modules.js";
import { commitMessage } from "./convert.js";
import { resolveResourceRef } from "./resource-ref.js";

/** buf asks for a few modules at a time; a request naming more is refused rather than served slowly. */
const maxRefs = 250;

function checkCount(n: number) {
  if (n > maxRefs)
    throw new RegistryError(
      Code.ResourceExhausted,
      `${n} refs in one request; at most ${maxRefs} are served`,
    );
}

export function createCommitService(modules: ModuleService): ServiceImpl<typeof CommitService> {
  return {
    async getCommits(req, ctx) {
      checkCount(req.resourceRefs.length);
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
      checkCount(req.resourceRefs.length);
      const caller = await principal(ctx);
      const nodes = new Map<string, { commit: Commit; deps: string[]; digest: string }>();
      const pending: Commit[] = [];
      for (const ref of req.resourceRefs) pending.push(await resolveResourceRef(modules, caller, ref));
      for (let c = pending.pop(); c !== undefined; c = pending.pop()) {
        if (nodes.has(c.id)) continue;
        const b5 = await modules.b5Of(c);
        nodes.set(c.id, { commit: c, deps: b5.deps, digest: b5.digest });
        for (const id of b5.deps) if (!nodes.has(id)) pending.push(await modules.commitById(caller, id));
      }
      return {
        graph: {
          commits: [...nodes.values()].map((n) => commitMessage(n.commit, n.digest)),
          edges: [...nodes.values()].flatMap((n) =>
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
      checkCount(req.values.length);
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
