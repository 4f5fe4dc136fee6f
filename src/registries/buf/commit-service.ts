// buf.registry.module.v1 CommitService, GraphService and DownloadService: what `buf dep update` and `buf build`
// read, and `buf registry module commit list`. The graph's edges and the downloaded files are exactly what each
// commit's b5 digest covers.
import type { ServiceImpl } from "@connectrpc/connect";
import { principal } from "../../api/context.js";
import { b5Files } from "../../compile/b5-digest.js";
import { Code, RegistryError } from "../../core/errors.js";
import { parseFullName } from "../../core/names.js";
import {
  type CommitService,
  type DownloadService,
  type GraphService,
  ListCommitsRequest_Order,
} from "../../gen/buf/registry/module/v1/commit_pb.js";
import type { ModuleService } from "../../services/modules.js";
import type { Page } from "../../storage/meta/metadata-store.js";
import { commitMessage } from "./convert.js";
import { decodeToken, encodeToken, pageSize } from "./paging.js";
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

    async listCommits(req, ctx) {
      const caller = await principal(ctx);
      const ref = req.resourceRef?.value;
      if (ref?.case !== "name")
        throw new RegistryError(Code.InvalidArgument, "resource_ref needs an owner and module name");
      const name = parseFullName("module", `${ref.value.owner}/${ref.value.module}`);
      const oldestFirst = req.order === ListCommitsRequest_Order.CREATE_TIME_ASC;
      const kind = oldestFirst ? "a" : "d";
      const limit = pageSize(req.pageSize);
      const after = decodeToken(kind, req.pageToken);
      const page: Page = {
        limit: limit + 1,
        oldestFirst,
        idPrefix: req.idQuery.toLowerCase().replaceAll("-", ""),
      };
      // A reference (label or commit) lists that commit and the ones before it.
      const upTo = ref.value.child.value
        ? await modules.resolveRef(caller, name, ref.value.child.value)
        : undefined;
      if (oldestFirst) {
        if (after !== undefined) page.afterSeq = after;
        if (upTo) page.beforeSeq = upTo.seq + 1;
      } else {
        const before = Math.min(
          after ?? Number.MAX_SAFE_INTEGER,
          upTo ? upTo.seq + 1 : Number.MAX_SAFE_INTEGER,
        );
        if (before !== Number.MAX_SAFE_INTEGER) page.beforeSeq = before;
      }
      const found = await modules.listCommits(caller, name, page);
      const shown = found.slice(0, limit);
      const last = shown.at(-1);
      const messages = [];
      for (const c of shown) messages.push(commitMessage(c, (await modules.b5Of(c)).digest));
      return {
        commits: messages,
        nextPageToken: found.length > limit && last ? encodeToken(kind, last.seq) : "",
      };
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
