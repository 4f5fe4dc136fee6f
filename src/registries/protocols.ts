// Every registry's protocol object (one method per endpoint), built once from the services and the settings that
// name things on the wire; the composition root registers each registry's routes over its object.

import type { PackageDeprecations } from "../services/deprecation.js";
import type { GenerationService } from "../services/generation.js";
import type { ModuleService } from "../services/modules.js";
import { createPackageDirectory } from "../services/package-directory.js";
import type { TemplateService } from "../services/templates.js";
import type { Invalidation } from "../storage/meta/invalidation.js";
import { type ArchiveProtocol, createArchiveProtocol } from "./archive/protocol.js";
import { type CargoCatalog, createCargoCatalog } from "./cargo/catalog.js";
import { type CmakeProtocol, createCmakeProtocol } from "./cmake/protocol.js";
import { createDescriptorsProtocol, type DescriptorsProtocol } from "./descriptors/protocol.js";
import { createGoProtocol, type GoProtocol } from "./goproxy/protocol.js";
import { createCatalog as createMavenCatalog, type Catalog as MavenCatalog } from "./maven/catalog.js";
import { createCatalog as createNpmCatalog, type Catalog as NpmCatalog } from "./npm/catalog.js";
import { createPypiCatalog, type PypiCatalog } from "./pypi/catalog.js";
import { createRubygemsCatalog, type RubygemsCatalog } from "./rubygems/catalog.js";
import { createSourcesProtocol, type SourcesProtocol } from "./sources/protocol.js";

export interface Protocols {
  sources: SourcesProtocol;
  descriptors: DescriptorsProtocol;
  archive: ArchiveProtocol;
  goproxy: GoProtocol;
  npm: NpmCatalog;
  pypi: PypiCatalog;
  maven: MavenCatalog;
  rubygems: RubygemsCatalog;
  cargo: CargoCatalog;
  cmake: CmakeProtocol;
}

export interface ProtocolServices {
  generation: GenerationService;
  modules: ModuleService;
  templates: TemplateService;
  deprecations?: PackageDeprecations;
}

export interface ProtocolSettings {
  /** npm scope of generated packages, without "@" (config npm.scope). */
  npmScope: string;
  /** groupId of every generated Maven artifact (config maven.groupId). */
  mavenGroupId: string;
  /** Moves on at every metadata write: listings built before it are rebuilt. */
  invalidation?: Pick<Invalidation, "epoch">;
  /** Reuse of listings per package and caller, in ms (default 1000; 0 disables). */
  cacheTtlMs?: number;
  /** Where a registry's background generation (warming older versions) reports failures. */
  onBackgroundError?: (registry: BackgroundRegistry, err: unknown) => void;
}

/** The registries that generate in the background (warming older versions). */
export type BackgroundRegistry = "npm" | "pypi" | "maven" | "rubygems" | "cargo";

export function createProtocols(services: ProtocolServices, settings: ProtocolSettings): Protocols {
  const { generation, modules, templates, deprecations } = services;
  const shared = (registry: BackgroundRegistry) => {
    const report = settings.onBackgroundError;
    return {
      generation,
      modules,
      ...(deprecations ? { deprecations } : {}),
      ...(settings.invalidation ? { invalidation: settings.invalidation } : {}),
      ...(settings.cacheTtlMs !== undefined ? { cacheTtlMs: settings.cacheTtlMs } : {}),
      ...(report ? { onBackgroundError: (err: unknown) => report(registry, err) } : {}),
    };
  };
  return {
    sources: createSourcesProtocol(modules),
    descriptors: createDescriptorsProtocol(modules),
    archive: createArchiveProtocol(generation),
    goproxy: createGoProtocol(generation),
    npm: createNpmCatalog({ ...shared("npm"), scope: settings.npmScope }),
    pypi: createPypiCatalog({ ...shared("pypi"), templates }),
    maven: createMavenCatalog({ ...shared("maven"), groupId: settings.mavenGroupId }),
    rubygems: createRubygemsCatalog({
      ...shared("rubygems"),
      directory: createPackageDirectory({ modules, templates }),
    }),
    cargo: createCargoCatalog(shared("cargo")),
    cmake: createCmakeProtocol(generation),
  };
}
