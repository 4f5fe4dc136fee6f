// buf.registry.plugin.v1beta1 PluginService, ResourceService and CommitService: `buf registry plugin info` and
// `buf registry plugin commit list`. buf's plugins there are check plugins with commits; ours generate code and
// have semver versions, so each version answers as one commit (its id derived from plugin and version).
import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { principal } from "../../api/context.js";
import { Code, RegistryError } from "../../core/errors.js";
import { type FullName, parseFullName } from "../../core/names.js";
import type { Plugin, PluginVersion } from "../../core/types.js";
import {
  CommitSchema,
  type CommitService,
  DigestType,
  ListCommitsRequest_Order,
  type PluginRef,
  PluginSchema,
  type PluginService,
  PluginState,
  PluginVisibility,
  type ResourceRef,
  type ResourceService,
} from "../../gen/buf/registry/plugin/v1beta1/plugin_pb.js";
import type { Principal } from "../../services/auth.js";
import type { DeletionService } from "../../services/lifecycle/deletion.js";
import type { PluginService as Plugins } from "../../services/plugins.js";
import { ownerId } from "./convert.js";
import { decodeToken, encodeToken, pageSize } from "./paging.js";
import { checkRefCount } from "./resource-ref.js";

const time = (iso: string) => timestampFromDate(new Date(iso));

const pluginMessage = (p: Plugin) =>
  create(PluginSchema, {
    id: p.id,
    createTime: time(p.createdAt),
    updateTime: time(p.createdAt),
    name: p.name,
    ownerId: ownerId(p.owner),
    visibility: p.visibility === "private" ? PluginVisibility.PRIVATE : PluginVisibility.PUBLIC,
    state: p.deprecation === undefined ? PluginState.ACTIVE : PluginState.DEPRECATED,
  });

/** A version's commit id: 32 hex digits like every id buf shows, the same for the same version every time. */
export const versionCommitId = (v: PluginVersion): string =>
  createHash("sha256").update(`${v.pluginId}/${v.version}`).digest("hex").slice(0, 32);

/** What the version runs (its image digest, its command, its protoc generator), as buf's 64-byte digest. */
const versionDigest = (v: PluginVersion): Buffer =>
  createHash("shake256", { outputLength: 64 }).update(JSON.stringify(v.source)).digest();

const commitMessage = (v: PluginVersion) =>
  create(CommitSchema, {
    id: versionCommitId(v),
    createTime: time(v.createdAt),
    ownerId: ownerId(v.owner),
    pluginId: v.pluginId,
    digest: { type: DigestType.P1, value: versionDigest(v) },
  });

/** A plugin_ref by name (ids are never shown to buf for lookups). */
function nameOfPluginRef(ref: PluginRef): FullName {
  if (ref.value.case !== "name")
    throw new RegistryError(Code.InvalidArgument, "plugin_ref needs an owner and plugin name");
  return parseFullName("plugin", `${ref.value.value.owner}/${ref.value.value.plugin}`);
}

export function createPluginServiceV1beta1(
  plugins: Plugins,
  deletion: Pick<DeletionService, "deletePlugin">,
): ServiceImpl<typeof PluginService> {
  return {
    async getPlugins(req, ctx) {
      checkRefCount(req.pluginRefs.length);
      const caller = await principal(ctx);
      const found = [];
      for (const ref of req.pluginRefs)
        found.push(pluginMessage(await plugins.getPlugin(caller, nameOfPluginRef(ref))));
      return { plugins: found };
    },
    // The same deletion as `protodepot plugin delete`: refused while a template uses the plugin, then 410 Gone.
    async deletePlugins(req, ctx) {
      checkRefCount(req.pluginRefs.length);
      const caller = await principal(ctx);
      for (const ref of req.pluginRefs) {
        const name = nameOfPluginRef(ref);
        await deletion.deletePlugin(caller, `${name.owner}/${name.name}`);
      }
      return {};
    },
  };
}

export function createPluginResourceService(plugins: Plugins): ServiceImpl<typeof ResourceService> {
  return {
    async getResources(req, ctx) {
      checkRefCount(req.resourceRefs.length);
      const caller = await principal(ctx);
      const resources = [];
      for (const ref of req.resourceRefs) {
        const { name, child } = pluginOfRef(ref);
        // Plugins have no labels: a reference is a version (or one of its commit ids).
        if (!child) {
          resources.push({
            value: { case: "plugin" as const, value: pluginMessage(await plugins.getPlugin(caller, name)) },
          });
          continue;
        }
        const version = await versionOf(plugins, caller, name, child);
        resources.push({ value: { case: "commit" as const, value: commitMessage(version) } });
      }
      return { resources };
    },
  };
}

export function createPluginCommitService(plugins: Plugins): ServiceImpl<typeof CommitService> {
  return {
    async listCommits(req, ctx) {
      const caller = await principal(ctx);
      const { name } = pluginOfRef(req.resourceRef);
      // Creation order (the store keeps it without clock ties); newest first unless asked otherwise.
      const versions = await plugins.listPluginVersions(caller, `${name.owner}/${name.name}`);
      const ordered =
        req.order === ListCommitsRequest_Order.CREATE_TIME_ASC ? versions : [...versions].reverse();
      const limit = pageSize(req.pageSize);
      const offset = decodeToken("o", req.pageToken) ?? 0;
      const next = offset + limit;
      return {
        commits: ordered.slice(offset, next).map(commitMessage),
        nextPageToken: next < ordered.length ? encodeToken("o", next) : "",
      };
    },
  };
}

function pluginOfRef(ref: ResourceRef | undefined): { name: FullName; child: string } {
  const v = ref?.value;
  if (v?.case !== "name")
    throw new RegistryError(Code.InvalidArgument, "resource_ref needs an owner and plugin name");
  return {
    name: parseFullName("plugin", `${v.value.owner}/${v.value.plugin}`),
    child: v.value.child.value ?? "",
  };
}

async function versionOf(
  plugins: Plugins,
  caller: Principal,
  name: FullName,
  ref: string,
): Promise<PluginVersion> {
  const versions = await plugins.listPluginVersions(caller, `${name.owner}/${name.name}`);
  const found = versions.find((v) => v.version === ref || versionCommitId(v) === ref);
  if (found) return found;
  throw new RegistryError(
    Code.NotFound,
    `plugin ${name.owner}/${name.name} has no version ${ref} (versions: ${versions.map((v) => v.version).join(", ") || "none"})`,
    { plugin: `${name.owner}/${name.name}` },
  );
}
