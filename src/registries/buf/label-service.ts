// buf.registry.module.v1.LabelService: `buf registry module label info`, `list`, `archive` and `unarchive`, and
// the label history behind `buf registry module commit list OWNER/MODULE:LABEL`.
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { principal } from "../../api/context.js";
import { Code, RegistryError } from "../../core/errors.js";
import { type FullName, parseFullName } from "../../core/names.js";
import type { Label } from "../../core/types.js";
import {
  CommitCheckStatus,
  type LabelRef,
  type LabelService,
  type ListLabelHistoryRequest,
  ListLabelHistoryRequest_Order,
  ListLabelsRequest_ArchiveFilter,
  ListLabelsRequest_Order,
} from "../../gen/buf/registry/module/v1/label_pb.js";
import type { Principal } from "../../services/auth.js";
import type { ArchiveFilter } from "../../services/modules/labels.js";
import type { ModuleService } from "../../services/modules.js";
import type { Page } from "../../storage/meta/metadata-store.js";
import { commitMessage, labelMessage } from "./convert.js";
import { decodeToken, encodeToken, pageSize } from "./paging.js";
import { checkRefCount } from "./resource-ref.js";

export function createLabelService(modules: ModuleService): ServiceImpl<typeof LabelService> {
  return {
    async getLabels(req, ctx) {
      checkRefCount(req.labelRefs.length);
      const caller = await principal(ctx);
      const labels = [];
      for (const ref of req.labelRefs) {
        const { name, label } = labelOfRef(ref);
        labels.push(labelMessage(await findLabel(modules, caller, name, label), name.owner));
      }
      return { labels };
    },

    async listLabels(req, ctx) {
      const caller = await principal(ctx);
      const ref = req.resourceRef?.value;
      if (ref?.case !== "name")
        throw new RegistryError(Code.InvalidArgument, "resource_ref needs an owner and module name");
      const name = parseFullName("module", `${ref.value.owner}/${ref.value.module}`);
      let labels = await modules.listLabels(caller, name, archiveFilter(req.archiveFilter));
      // With a reference: the labels pointing at the commit it names.
      const at = ref.value.child.value;
      if (at) {
        const commit = await modules.resolveRef(caller, name, at);
        labels = labels.filter((l) => l.commitId === commit.id);
      }
      if (req.nameQuery) labels = labels.filter((l) => l.name.includes(req.nameQuery));
      const ordered = orderLabels(labels, req.order);
      const limit = pageSize(req.pageSize);
      const offset = decodeToken("o", req.pageToken) ?? 0;
      const next = offset + limit;
      return {
        labels: ordered.slice(offset, next).map((l) => labelMessage(l, name.owner)),
        nextPageToken: next < ordered.length ? encodeToken("o", next) : "",
      };
    },

    async listLabelHistory(req, ctx) {
      return labelHistory(modules, await principal(ctx), req);
    },

    async archiveLabels(req, ctx) {
      await archive(modules, await principal(ctx), req.labelRefs, true);
      return {};
    },

    async unarchiveLabels(req, ctx) {
      await archive(modules, await principal(ctx), req.labelRefs, false);
      return {};
    },
  };
}

/**
 * protodepot keeps where a label points, not where it pointed: the history is the label's commit and the module's
 * commits before it, which is the label's history when it only ever moved forward.
 */
async function labelHistory(modules: ModuleService, caller: Principal, req: ListLabelHistoryRequest) {
  if (!req.labelRef) throw new RegistryError(Code.InvalidArgument, "label_ref is required");
  const { name, label } = labelOfRef(req.labelRef);
  const found = await findLabel(modules, caller, name, label);
  const head = await modules.resolveRef(caller, name, found.commitId);
  const oldestFirst = req.order === ListLabelHistoryRequest_Order.ASC;
  const kind = oldestFirst ? "a" : "d";
  const limit = pageSize(req.pageSize);
  const after = decodeToken(kind, req.pageToken);
  const page: Page = { limit: limit + 1, oldestFirst, beforeSeq: head.seq + 1 };
  if (oldestFirst && after !== undefined) page.afterSeq = after;
  if (!oldestFirst && after !== undefined) page.beforeSeq = Math.min(after, head.seq + 1);
  const commits = await modules.listCommits(caller, name, page);
  const shown = commits.slice(0, limit);
  const values = [];
  for (const c of shown) {
    values.push({
      commit: commitMessage(c, (await modules.b5Of(c)).digest),
      commitCheckState: {
        status: CommitCheckStatus.DISABLED,
        updateTime: timestampFromDate(new Date(c.createdAt)),
      },
    });
  }
  const last = shown.at(-1);
  return { values, nextPageToken: commits.length > limit && last ? encodeToken(kind, last.seq) : "" };
}

/** A label of a module the caller may read; an archived label is still a label (info shows its archive time). */
async function findLabel(modules: ModuleService, caller: Principal, name: FullName, label: string) {
  const found = (await modules.listLabels(caller, name, "all")).find((l) => l.name === label);
  if (!found) {
    throw new RegistryError(Code.NotFound, `module ${name.owner}/${name.name} has no label "${label}"`, {
      owner: name.owner,
      module: name.name,
      ref: label,
    });
  }
  return found;
}

async function archive(
  modules: ModuleService,
  caller: Principal,
  refs: readonly LabelRef[],
  archived: boolean,
): Promise<void> {
  checkRefCount(refs.length);
  for (const ref of refs) {
    const { name, label } = labelOfRef(ref);
    await modules.archiveLabel(caller, name, label, archived);
  }
}

function labelOfRef(ref: LabelRef): { name: FullName; label: string } {
  if (ref.value.case !== "name")
    throw new RegistryError(Code.InvalidArgument, "label_ref needs an owner, module and label name");
  const { owner, module, label } = ref.value.value;
  return { name: parseFullName("module", `${owner}/${module}`), label };
}

function archiveFilter(f: ListLabelsRequest_ArchiveFilter): ArchiveFilter {
  if (f === ListLabelsRequest_ArchiveFilter.ARCHIVED_ONLY) return "archived";
  if (f === ListLabelsRequest_ArchiveFilter.ALL) return "all";
  return "unarchived";
}

/**
 * Labels have one time, their last move, so both orders sort by it (buf asks for update time, newest first, by
 * default); ties by name keep pages stable.
 */
function orderLabels(labels: readonly Label[], order: ListLabelsRequest_Order): Label[] {
  const asc =
    order === ListLabelsRequest_Order.CREATE_TIME_ASC || order === ListLabelsRequest_Order.UPDATE_TIME_ASC;
  return [...labels].sort((a, b) => {
    const byTime = a.updatedAt < b.updatedAt ? -1 : a.updatedAt > b.updatedAt ? 1 : 0;
    if (byTime !== 0) return asc ? byTime : -byTime;
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });
}
