// The buf CLI's Connect services, served by our Connect router beside our own API (same authentication, limits
// and error mapping), and the OAuth device-flow path buf tries first on `buf registry login`.
import type { ConnectRouter } from "@connectrpc/connect";
import type { FastifyInstance } from "fastify";
import { AuthnService } from "../../gen/buf/alpha/registry/v1alpha1/authn_pb.js";
import {
  CodeGenerationService,
  PluginCurationService,
} from "../../gen/buf/alpha/registry/v1alpha1/plugin_curation_pb.js";
import { ResolveService } from "../../gen/buf/alpha/registry/v1alpha1/resolve_pb.js";
import { FileDescriptorSetService } from "../../gen/buf/reflect/v1beta1/file_descriptor_set_pb.js";
import { CommitService, DownloadService, GraphService } from "../../gen/buf/registry/module/v1/commit_pb.js";
import { LabelService } from "../../gen/buf/registry/module/v1/label_pb.js";
import { ModuleService } from "../../gen/buf/registry/module/v1/module_pb.js";
import { ResourceService } from "../../gen/buf/registry/module/v1/resource_pb.js";
import { UploadService } from "../../gen/buf/registry/module/v1/upload_pb.js";
import {
  CommitService as CommitServiceV1beta1,
  DownloadService as DownloadServiceV1beta1,
  GraphService as GraphServiceV1beta1,
} from "../../gen/buf/registry/module/v1beta1/commit_pb.js";
import { OrganizationService, OwnerService, UserService } from "../../gen/buf/registry/owner/v1/owner_pb.js";
import {
  CommitService as PluginCommitService,
  ResourceService as PluginResourceService,
  PluginService,
} from "../../gen/buf/registry/plugin/v1beta1/plugin_pb.js";
import { createDescriptorService } from "../../services/descriptors.js";
import type { DeletionService } from "../../services/lifecycle/deletion.js";
import type { ModuleService as Modules } from "../../services/modules.js";
import type { OrganizationService as Organizations } from "../../services/organizations.js";
import type { PluginService as Plugins } from "../../services/plugins.js";
import type { RemotePluginService } from "../../services/remote-plugins.js";
import type { TemplateService } from "../../services/templates.js";
import { createAuthnService } from "./authn-service.js";
import { createCodeGenerationService } from "./code-generation-service.js";
import { createCommitService, createDownloadService, createGraphService } from "./commit-service.js";
import {
  createCommitServiceV1beta1,
  createDownloadServiceV1beta1,
  createGraphServiceV1beta1,
} from "./commit-service-v1beta1.js";
import { createFileDescriptorSetService } from "./file-descriptor-set-service.js";
import { createLabelService } from "./label-service.js";
import { createModuleService } from "./module-service.js";
import { createOrganizationService, createOwnerService, createUserService } from "./owner-service.js";
import {
  createPluginCommitService,
  createPluginResourceService,
  createPluginServiceV1beta1,
} from "./plugin-service.js";
import { createResourceService } from "./resource-service.js";
import { createPluginCurationService, createResolveService } from "./sdk-service.js";
import { createUploadService } from "./upload-service.js";

export interface BufServices {
  modules: Modules;
  orgs: Organizations;
  plugins: Plugins;
  templates: TemplateService;
  remotePlugins: RemotePluginService;
  deletion: Pick<DeletionService, "deletePlugin">;
}

export function registerBufServices(
  router: ConnectRouter,
  { modules, orgs, plugins, templates, remotePlugins, deletion }: BufServices,
): void {
  router.service(AuthnService, createAuthnService());
  router.service(UserService, createUserService());
  router.service(OwnerService, createOwnerService(modules));
  router.service(OrganizationService, createOrganizationService(orgs));
  router.service(ModuleService, createModuleService(modules));
  router.service(UploadService, createUploadService(modules));
  router.service(CommitService, createCommitService(modules));
  router.service(GraphService, createGraphService(modules));
  router.service(DownloadService, createDownloadService(modules));
  router.service(LabelService, createLabelService(modules));
  router.service(ResourceService, createResourceService(modules));
  // buf.yaml v1 modules: the same commits with b4 digests.
  router.service(CommitServiceV1beta1, createCommitServiceV1beta1(modules));
  router.service(GraphServiceV1beta1, createGraphServiceV1beta1(modules));
  router.service(DownloadServiceV1beta1, createDownloadServiceV1beta1(modules));
  router.service(CodeGenerationService, createCodeGenerationService(remotePlugins));
  // `buf registry plugin info|delete` and `plugin commit list`: our plugin versions as buf's plugin commits.
  router.service(PluginService, createPluginServiceV1beta1(plugins, deletion));
  router.service(PluginResourceService, createPluginResourceService(plugins));
  router.service(PluginCommitService, createPluginCommitService(plugins));
  // `buf registry sdk version`: a template version and a commit as the synthetic version our registries serve.
  router.service(PluginCurationService, createPluginCurationService(templates));
  router.service(ResolveService, createResolveService(modules, templates));
  // BSR's reflection API: a module's schema for runtimes that build dynamic messages.
  router.service(FileDescriptorSetService, createFileDescriptorSetService(createDescriptorService(modules)));
}

/**
 * protodepot has no OAuth: a plain-text 404 on the device-flow path makes `buf registry login` fall back to
 * asking for a token (or reading one with --token-stdin).
 */
export function registerBufOAuthFallback(app: FastifyInstance): void {
  app.all("/oauth2/device/*", async (_request, reply) =>
    reply
      .code(404)
      .type("text/plain")
      .send(
        "protodepot has no OAuth device flow: log in with a token (buf registry login HOST --token-stdin)\n",
      ),
  );
}
