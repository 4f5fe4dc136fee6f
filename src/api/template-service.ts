// TemplateService: templates and template versions.
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { parseFullName } from "../core/names.js";
import type { Template, TemplateVersion } from "../core/types.js";
import {
  TemplateSchema,
  type TemplateService,
  TemplateVersionSchema,
} from "../gen/protodepot/v1/template_pb.js";
import type { DeletionService } from "../services/lifecycle/deletion.js";
import type { TemplateService as Templates } from "../services/templates.js";
import { principal } from "./context.js";
import { parseVisibility, settingsChange } from "./convert.js";

const templateMessage = (t: Template) =>
  create(TemplateSchema, {
    id: t.id,
    owner: t.owner,
    name: t.name,
    visibility: t.visibility,
    plugins: t.plugins,
    createTime: t.createdAt,
    deprecated: t.deprecation !== undefined,
    deprecationMessage: t.deprecation ?? "",
  });

const versionMessage = (t: { owner: string; name: string }, v: TemplateVersion) =>
  create(TemplateVersionSchema, {
    template: `${t.owner}/${t.name}`,
    name: `v${v.number}`,
    number: v.number,
    pluginVersions: v.plugins,
    createTime: v.createdAt,
    recordedDeprecation: v.deprecation ?? "",
  });

export function createTemplateServiceImpl(
  templates: Templates,
  deletion: Pick<DeletionService, "deleteTemplate">,
): ServiceImpl<typeof TemplateService> {
  return {
    async deleteTemplate(req, ctx) {
      await deletion.deleteTemplate(await principal(ctx), req.template);
      return {};
    },
    async createTemplate(req, ctx) {
      const plugins = req.plugins.map((p) => ({ owner: p.owner, name: p.name, parameter: p.parameter }));
      const t = await templates.createTemplate(
        await principal(ctx),
        req.template,
        plugins,
        parseVisibility(req.visibility),
      );
      return { template: templateMessage(t) };
    },
    async listTemplates(req, ctx) {
      const list = await templates.listTemplates(await principal(ctx), req.owner || undefined);
      return { templates: list.map(templateMessage) };
    },
    async getTemplate(req, ctx) {
      const caller = await principal(ctx);
      const t = await templates.getTemplate(caller, parseFullName("template", req.template));
      const versions = await templates.listVersions(caller, req.template);
      return { template: templateMessage(t), versions: versions.map((v) => versionMessage(t, v)) };
    },
    async updateTemplate(req, ctx) {
      const t = await templates.updateTemplate(await principal(ctx), req.template, settingsChange(req));
      return { template: templateMessage(t) };
    },
    async createTemplateVersion(req, ctx) {
      const pins = req.pluginVersions.map((p) => ({ owner: p.owner, name: p.name, version: p.version }));
      const name = parseFullName("template", req.template);
      const v = await templates.createTemplateVersion(await principal(ctx), req.template, pins);
      return { templateVersion: versionMessage(name, v) };
    },
    async listTemplateVersions(req, ctx) {
      const name = parseFullName("template", req.template);
      const versions = await templates.listVersions(await principal(ctx), req.template);
      return { templateVersions: versions.map((v) => versionMessage(name, v)) };
    },
  };
}
