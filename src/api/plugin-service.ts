// PluginService: plugins and plugin versions.
import { basename } from "node:path";
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { Code, RegistryError } from "../core/errors.js";
import type { Plugin, PluginVersion } from "../core/types.js";
import { PluginSchema, type PluginService, PluginVersionSchema } from "../gen/protodepot/v1/plugin_pb.js";
import type { Principal } from "../services/auth.js";
import type { DeletionService } from "../services/lifecycle/deletion.js";
import type { PluginService as Plugins } from "../services/plugins.js";
import { principal } from "./context.js";
import { parseVisibility, settingsChange } from "./convert.js";

export const pluginMessage = (p: Plugin) =>
  create(PluginSchema, {
    id: p.id,
    owner: p.owner,
    name: p.name,
    visibility: p.visibility,
    createTime: p.createdAt,
    deprecated: p.deprecation !== undefined,
    deprecationMessage: p.deprecation ?? "",
  });

/**
 * A host command is a path of the server's file system: only admins (who registered it) see it whole; everyone
 * else sees the executable's name, which says what runs without mapping the server.
 */
export const pluginVersionMessage = (v: PluginVersion, caller: Principal) =>
  create(PluginVersionSchema, {
    owner: v.owner,
    name: v.name,
    version: v.version,
    command:
      v.source.kind !== "host"
        ? []
        : caller.user?.isAdmin
          ? v.source.command
          : v.source.command.slice(0, 1).map((c) => basename(c)),
    imageDigest: v.source.kind === "oci" ? v.source.digest : "",
    protocGenerator: v.source.kind === "protoc" ? v.source.generator : "",
    protocVersion: v.source.kind === "protoc" ? v.source.version : "",
    runtimeLibraries: {
      go: v.runtimeLibraries.go ?? [],
      npm: v.runtimeLibraries.npm ?? [],
      python: v.runtimeLibraries.python ?? [],
      maven: v.runtimeLibraries.maven ?? [],
      ruby: v.runtimeLibraries.ruby ?? [],
      rust: v.runtimeLibraries.rust ?? [],
    },
    registryOptionsJson: JSON.stringify(v.registryOptions),
    createTime: v.createdAt,
  });

function parseOptions(json: string): Record<string, unknown> {
  if (!json) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new RegistryError(Code.InvalidArgument, "registry_options_json is not valid JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new RegistryError(Code.InvalidArgument, "registry_options_json must be a JSON object");
  }
  return parsed as Record<string, unknown>;
}

export function createPluginServiceImpl(
  plugins: Plugins,
  deletion: Pick<DeletionService, "deletePlugin">,
): ServiceImpl<typeof PluginService> {
  return {
    async deletePlugin(req, ctx) {
      await deletion.deletePlugin(await principal(ctx), req.plugin);
      return {};
    },
    async createPlugin(req, ctx) {
      return {
        plugin: pluginMessage(
          await plugins.createPlugin(await principal(ctx), req.plugin, parseVisibility(req.visibility)),
        ),
      };
    },
    async listPlugins(req, ctx) {
      return {
        plugins: (await plugins.listPlugins(await principal(ctx), req.owner || undefined)).map(pluginMessage),
      };
    },
    async updatePlugin(req, ctx) {
      const plugin = await plugins.updatePlugin(await principal(ctx), req.plugin, settingsChange(req));
      return { plugin: pluginMessage(plugin) };
    },
    async createPluginVersion(req, ctx) {
      const libs = req.runtimeLibraries;
      const version = await plugins.createPluginVersion(await principal(ctx), {
        plugin: req.plugin,
        version: req.version,
        command: req.command,
        ...(req.protocGenerator ? { protocGenerator: req.protocGenerator } : {}),
        runtimeLibraries: {
          ...(libs?.go.length ? { go: libs.go.map((g) => ({ module: g.module, version: g.version })) } : {}),
          ...(libs?.npm.length
            ? { npm: libs.npm.map((n) => ({ package: n.package, version: n.version })) }
            : {}),
          ...(libs?.python.length
            ? { python: libs.python.map((p) => ({ package: p.package, version: p.version })) }
            : {}),
          ...(libs?.maven.length
            ? {
                maven: libs.maven.map((m) => ({
                  groupId: m.groupId,
                  artifactId: m.artifactId,
                  version: m.version,
                })),
              }
            : {}),
          ...(libs?.ruby.length
            ? { ruby: libs.ruby.map((r) => ({ package: r.package, version: r.version })) }
            : {}),
          ...(libs?.rust.length
            ? { rust: libs.rust.map((r) => ({ crate: r.crate, version: r.version })) }
            : {}),
        },
        registryOptions: parseOptions(req.registryOptionsJson),
      });
      return { pluginVersion: pluginVersionMessage(version, await principal(ctx)) };
    },
    async listPluginVersions(req, ctx) {
      const caller = await principal(ctx);
      const versions = await plugins.listPluginVersions(caller, req.plugin);
      return { pluginVersions: versions.map((v) => pluginVersionMessage(v, caller)) };
    },
  };
}
