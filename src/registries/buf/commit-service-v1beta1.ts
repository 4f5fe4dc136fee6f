// buf.registry.module.v1beta1 CommitService, GraphService and DownloadService: what `buf dep update` and
// `buf build` call for a buf.yaml v1 module, which buf.lock pins by b4 digests. The same commits, edges and files
// as the v1 services; only the digest type (b4 unless buf asks for b5) and the registry of each node differ.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { principal } from "../../api/context.js";
import { b5Files } from "../../compile/b5-digest.js";
import type { Commit } from "../../core/types.js";
import {
  CommitSchema,
  type CommitService,
  DigestType,
  type DownloadService,
  type GraphService,
} from "../../gen/buf/registry/module/v1beta1/commit_pb.js";
import type { TarEntry } from "../../packaging/tar.js";
import type { ModuleService } from "../../services/modules.js";
import { ownerId } from "./convert.js";
import { checkRefCount, commitGraph, resolveResourceRef } from "./resource-ref.js";

type StoredFiles = readonly TarEntry[];

/** The digest of the requested type; buf sends B4 for v1 modules. `files` when the caller has read them already. */
async function digestOf(modules: ModuleService, commit: Commit, type: DigestType, files?: StoredFiles) {
  if (type === DigestType.B5) return { type, value: Buffer.from((await modules.b5Of(commit)).digest, "hex") };
  return { type: DigestType.B4, value: await modules.b4Of(commit, files) };
}

async function commitMessage(modules: ModuleService, c: Commit, type: DigestType, files?: StoredFiles) {
  return create(CommitSchema, {
    id: c.id,
    createTime: timestampFromDate(new Date(c.createdAt)),
    ownerId: ownerId(c.owner),
    moduleId: c.moduleId,
    digest: await digestOf(modules, c, type, files),
    createdByUserId: ownerId(c.createdBy),
  });
}

export function createCommitServiceV1beta1(modules: ModuleService): ServiceImpl<typeof CommitService> {
  return {
    async getCommits(req, ctx) {
      checkRefCount(req.resourceRefs.length);
      const caller = await principal(ctx);
      const commits = [];
      for (const ref of req.resourceRefs) {
        const c = await resolveResourceRef(modules, caller, ref);
        commits.push(await commitMessage(modules, c, req.digestType));
      }
      return { commits };
    },
  };
}

export function createGraphServiceV1beta1(modules: ModuleService): ServiceImpl<typeof GraphService> {
  return {
    async getGraph(req, ctx) {
      checkRefCount(req.resourceRefs.length);
      const caller = await principal(ctx);
      // Every node lives here: it carries the registry name buf used for the refs it asked about.
      const registry = req.resourceRefs.find((r) => r.registry !== "")?.registry ?? "";
      const nodes = await commitGraph(
        modules,
        caller,
        req.resourceRefs.map((r) => r.resourceRef),
      );
      const commits = [];
      for (const n of nodes)
        commits.push({ commit: await commitMessage(modules, n.commit, req.digestType), registry });
      return {
        graph: {
          commits,
          edges: nodes.flatMap((n) =>
            n.deps.map((to) => ({
              fromNode: { commitId: n.commit.id, registry },
              toNode: { commitId: to, registry },
            })),
          ),
        },
      };
    },
  };
}

export function createDownloadServiceV1beta1(modules: ModuleService): ServiceImpl<typeof DownloadService> {
  return {
    async download(req, ctx) {
      checkRefCount(req.values.length);
      const caller = await principal(ctx);
      const contents = [];
      for (const v of req.values) {
        const commit = await resolveResourceRef(modules, caller, v.resourceRef);
        const stored = await modules.readFiles(commit);
        const files = b5Files(stored);
        contents.push({
          commit: await commitMessage(modules, commit, req.digestType, stored),
          files: files.map((f) => ({ path: f.path, content: f.content })),
        });
      }
      return { contents };
    },
  };
}
