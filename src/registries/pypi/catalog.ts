// What a PyPI project offers: its name read back into a template and a module, its wheels with their hashes, and
// the artifact behind each file. The version policy is the shared catalog's (services/catalog.ts).
import type { Readable } from "node:stream";
import { createCache } from "../../core/cache.js";
import { Code, isRegistryError, RegistryError } from "../../core/errors.js";
import { parseFullName } from "../../core/names.js";
import { type SyntheticVersion, semverVersion } from "../../core/synthetic-version.js";
import type { ArtifactRecord, Commit } from "../../core/types.js";
import {
  parsePypiVersion,
  pypiNameCandidates,
  pypiProjectName,
  wheelFileName,
} from "../../ecosystems/pypi/names.js";
import type { PypiPin } from "../../generate/package/pypi.js";
import { type ArtifactExtras, extrasOf } from "../../services/artifact-extras.js";
import type { Principal } from "../../services/auth.js";
import {
  type CatalogSettings,
  createCatalog,
  type PackageRef,
  type PinnedPackage,
} from "../../services/catalog.js";
import type { ModuleService } from "../../services/modules.js";
import { createPackageDirectory, type PackageDirectory } from "../../services/package-directory.js";
import type { TemplateService } from "../../services/templates.js";

export interface WheelFile {
  fileName: string;
  version: string;
  /** Hex sha256 of the wheel. */
  sha256: string;
  size: number;
  /** Hex sha256 of the wheel's METADATA, served at `{file}.metadata` (PEP 658/714). */
  metadataSha256: string;
  requiresPython: string;
  commit: Commit;
}

export interface ProjectListing {
  /** Normalized (PEP 503). */
  project: string;
  /** Oldest first. */
  files: WheelFile[];
  /**
   * Present while the project is deprecated (its module, its template, or a plugin its newest template version
   * pins): PEP 792's project status `deprecated`, with this as its reason.
   */
  deprecated?: string;
}

/** The one call per endpoint each handler of this registry makes. */
export interface PypiCatalog {
  /** Normalized names of the projects the caller may see, sorted. */
  projects(principal: Principal): Promise<string[]>;
  /** A project's wheels; `project` must already be normalized. */
  project(principal: Principal, project: string): Promise<ProjectListing>;
  /** One version's wheel, generated if needed, and how to read its bytes. */
  wheel(
    principal: Principal,
    project: string,
    version: string,
    signal?: AbortSignal,
  ): Promise<{ record: ArtifactRecord; open(): Promise<Buffer | Readable> }>;
  /** Stops background warming (the server is closing). */
  close(): void;
}

export interface PypiCatalogOptions extends Omit<CatalogSettings, "modules"> {
  /** Reads project names back (createPackageDirectory), and the labels a listing starts from. */
  modules: ModuleService;
  templates: TemplateService;
}

/** Our names join four names of `[a-z0-9-]` (each at most 64 characters) with `-`. */
const maxProjectLength = 4 * 64 + 3;
const projectShape = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const expected =
  "{templateOwner}-{templateName}-{moduleOwner}-{moduleName}, e.g. protodepot-python-acme-payments";

function parsePins(record: ArtifactRecord): PinnedPackage[] {
  const text = extrasOf(record, "pypi")?.pins;
  if (!text) return [];
  const pins = JSON.parse(text) as PypiPin[];
  return pins.flatMap((p) => {
    const version = parsePypiVersion(p.version);
    if (!version) return [];
    return [
      { template: parseFullName("template", p.template), module: parseFullName("module", p.module), version },
    ];
  });
}

export function createPypiCatalog(opts: PypiCatalogOptions): PypiCatalog {
  const { templates, ...settings } = opts;
  const directory = createPackageDirectory({ modules: opts.modules, templates });
  const catalog = createCatalog({
    ...settings,
    flavour: "pypi",
    // PyPI has no tags: the default label's head (what `pip install NAME` picks, as the highest version of the
    // newest template version) is generated before listing; other versions are listed once generated.
    isTag: () => false,
    dependenciesOf: parsePins,
  });

  const resolve = (principal: Principal, project: string) => readProjectName(directory, principal, project);

  // The root is every readable template × every readable module: built once per caller per TTL and write epoch.
  const ttl = opts.cacheTtlMs ?? 1000;
  const epoch = () => opts.invalidation?.epoch() ?? 0;
  const roots = createCache<string[]>({ bound: { maxEntries: 1000 }, ttlMs: ttl, epoch });
  async function buildRoot(principal: Principal): Promise<string[]> {
    const refs = await directory.list(principal, (plugins) =>
      plugins.some((p) => (p.runtimeLibraries.python?.length ?? 0) > 0),
    );
    return [...new Set(refs.map(pypiProjectName))].sort();
  }

  const notFoundVersion = (project: string, version: string, why: string) =>
    new RegistryError(Code.NotFound, `project ${project} has no version ${version}: ${why}`);

  return {
    projects(principal) {
      return roots.load(principal.user?.id ?? "", () => buildRoot(principal));
    },

    async project(principal, project) {
      const pkg = await resolve(principal, project);
      const listing = await catalog.list(principal, pkg);
      // Every listed file has its hashes: a record without them (never written so) is left out.
      const files = listing.versions.flatMap((v) => {
        const extras = extrasOf(v.record, "pypi");
        return extras ? [wheelFile(project, v, extras)] : [];
      });
      const newest = listing.versions[listing.versions.length - 1]?.version.templateVersion;
      const deprecated = newest === undefined ? undefined : listing.deprecations.get(newest);
      return { project, files, ...(deprecated !== undefined ? { deprecated } : {}) };
    },

    async wheel(principal, project, version, signal) {
      const pkg = await resolve(principal, project);
      const v: SyntheticVersion | undefined = parsePypiVersion(version);
      if (!v)
        throw notFoundVersion(project, version, "versions look like 1.{template version}.{commit sequence}");
      try {
        const { record, open } = await catalog.artifact(principal, pkg, v, signal);
        return { record, open };
      } catch (err) {
        if (isRegistryError(err, Code.NotFound)) throw notFoundVersion(project, version, err.message);
        throw err;
      }
    },

    close: () => catalog.close(),
  };
}

function wheelFile(
  project: string,
  v: { version: SyntheticVersion; commit: Commit; record: ArtifactRecord },
  extras: ArtifactExtras["pypi"],
): WheelFile {
  const version = semverVersion(v.version);
  return {
    fileName: wheelFileName(project, version),
    version,
    sha256: extras.sha256,
    size: v.record.size,
    metadataSha256: extras.metadataSha256,
    // What the wheel's own METADATA says, so the index never disagrees with the file.
    requiresPython: /^Requires-Python: (.*)$/m.exec(extras.metadata ?? "")?.[1] ?? "",
    commit: v.commit,
  };
}

/**
 * The one (template, module) a project name reads as; 404 when none exists, also for a name that cannot be ours at
 * all (`protobuf`): pip, poetry and uv ask every index for every dependency and take a 404 as "not here", while a
 * 400 stops poetry's whole resolution.
 */
async function readProjectName(
  directory: PackageDirectory,
  principal: Principal,
  project: string,
): Promise<PackageRef> {
  if (project.length > maxProjectLength || !projectShape.test(project)) {
    throw new RegistryError(
      Code.NotFound,
      `project "${project.slice(0, 300)}" is not served here: this index serves ${expected}`,
    );
  }
  const candidates = pypiNameCandidates(project);
  if (candidates.length === 0) {
    throw new RegistryError(
      Code.NotFound,
      `project "${project}" is not served here: it does not split into four names of 2–64 characters; this index serves ${expected}`,
    );
  }
  // Of several readings, the one that existed first keeps the name: a module or template created later never
  // changes what an installed name means (the newcomer's packages are served by the other registries only).
  const [first] = [...(await directory.find(principal, candidates))].sort((a, b) =>
    a.since < b.since ? -1 : a.since > b.since ? 1 : 0,
  );
  if (!first) {
    throw new RegistryError(
      Code.NotFound,
      `project ${project} does not exist: no template and module it can name (${expected}) exist or are visible to you`,
    );
  }
  return { template: first.template, module: first.module };
}
