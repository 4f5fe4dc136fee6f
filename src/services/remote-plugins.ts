// buf's remote plugins: plugin versions of this registry run over an image the caller compiled, through the same
// runtimes, sandbox, output checks and fair scheduling as every generation. Nothing is cached: the image is the
// caller's and may be anything.

import semver from "semver";
import { Code, RegistryError } from "../core/errors.js";
import type { PluginVersion } from "../core/types.js";
import type { PluginResponse } from "../gen/protodepot/plugin/v1/response_pb.js";
import { createImageRequestBuilder, type ImageFile } from "../generate/image-request.js";
import type { GenerateMetrics } from "../generate/metrics.js";
import { createResponseChecker, type OutputLimits } from "../generate/output.js";
import { runPlugin } from "../generate/run-plugins.js";
import { ANONYMOUS, type FairScheduler, type GenerationLog } from "../generate/wrappers.js";
import type { PluginRuntime } from "../plugins/runtime.js";
import type { Principal } from "./auth.js";
import type { Payers } from "./payers.js";
import type { PluginService } from "./plugins.js";

export interface RemotePluginRequest {
  owner: string;
  name: string;
  /** `v1.2.3`; empty for the newest version. */
  version: string;
  /** buf's `:v1.2.3-N`: version `v1.2.3-N` of ours; 0 for none. */
  revision: number;
  /** Joined with "," into the parameter, as buf does for a local plugin's `opt`. */
  options: readonly string[];
  includeImports: boolean;
  includeWellKnownTypes: boolean;
}

export interface RemoteGeneration {
  files: readonly ImageFile[];
  requests: readonly RemotePluginRequest[];
}

export interface RemotePluginService {
  /**
   * One response per request, in request order, as the plugin wrote it (file contents as bytes); the first failing
   * plugin fails the whole call, naming it.
   */
  generateCode(
    principal: Principal,
    input: RemoteGeneration,
    signal?: AbortSignal,
  ): Promise<PluginResponse[]>;
}

export interface RemotePluginOptions {
  plugins: PluginService;
  runtime: PluginRuntime;
  /** The same plugin-run slots as artifact generation. */
  scheduler: FairScheduler;
  /** Caps on the files of all responses of one call together (plugins.maxFiles, plugins.maxOutputBytes). */
  output: OutputLimits;
  /** Most files in one image (limits.maxFiles); its bytes are capped by the body limit before it is decoded. */
  maxImageFiles: number;
  /** Most plugins in one call. */
  maxRequests: number;
  metrics?: GenerateMetrics;
  log?: GenerationLog;
  /**
   * Who a call's slot is charged to: the caller and the plugins' owners (docs/serving.md, *Plugin slots*). Without
   * it, the caller alone (every anonymous caller as one).
   */
  payers?: Pick<Payers, "of">;
}

/** The plugin version a request names; an empty version names the newest. */
async function resolvePlugin(
  plugins: RemotePluginOptions["plugins"],
  principal: Principal,
  req: RemotePluginRequest,
): Promise<PluginVersion> {
  const name = { owner: req.owner, name: req.name };
  const full = `${req.owner}/${req.name}`;
  if (req.version === "") {
    if (req.revision !== 0)
      throw new RegistryError(Code.InvalidArgument, `plugin ${full}: a revision needs a version`);
    const versions = await plugins.listPluginVersions(principal, full);
    const newest = versions.reduce<PluginVersion | undefined>(
      (best, v) => (best === undefined || semver.gt(v.version.slice(1), best.version.slice(1)) ? v : best),
      undefined,
    );
    if (!newest)
      throw new RegistryError(
        Code.NotFound,
        `plugin ${full} has no versions yet: push one with 'protodepot plugin push ${full}:vX.Y.Z --binary PATH'`,
        { plugin: full },
      );
    return newest;
  }
  const version = req.revision === 0 ? req.version : `${req.version}-${req.revision}`;
  return plugins.getPluginVersion(principal, name, version);
}

/** A call's size against its caps, before anything is resolved. */
function checkCall(
  opts: RemotePluginOptions,
  input: { requests: readonly unknown[]; files: readonly unknown[] },
) {
  const n = input.requests.length;
  if (n === 0)
    throw new RegistryError(Code.InvalidArgument, "GenerateCode needs at least one plugin request");
  if (n > opts.maxRequests)
    throw new RegistryError(
      Code.ResourceExhausted,
      `${n} plugins in one call; at most ${opts.maxRequests} are run per call`,
    );
  if (input.files.length > opts.maxImageFiles)
    throw new RegistryError(
      Code.ResourceExhausted,
      `the image has ${input.files.length} files; at most ${opts.maxImageFiles} are accepted (limits.maxFiles)`,
    );
}

export function createRemotePluginService(opts: RemotePluginOptions): RemotePluginService {
  return {
    async generateCode(principal, input, signal) {
      checkCall(opts, input);
      // Every plugin is resolved (and the caller's access checked) before anything runs.
      const versions: PluginVersion[] = [];
      for (const req of input.requests) versions.push(await resolvePlugin(opts.plugins, principal, req));
      const builder = createImageRequestBuilder(input.files);
      const checker = createResponseChecker(opts.output);
      const caller = principal.user?.name ?? ANONYMOUS;
      const payers = opts.payers
        ? await opts.payers.of(
            principal,
            versions.map((v) => v.owner),
          )
        : [caller];
      const plugins = versions.map((v) => `${v.owner}/${v.name}:${v.version}`);
      const started = performance.now();
      const ms = () => Math.round(performance.now() - started);
      // One slot for the whole call, the plugins one after the other, like a template's plugins.
      const run = opts.scheduler.run(
        payers,
        async () => {
          const responses: PluginResponse[] = [];
          for (const [i, req] of input.requests.entries()) {
            const v = versions[i] as PluginVersion;
            const label = plugins[i] ?? "";
            const { request, filesToGenerate } = builder.build({
              parameter: req.options.join(","),
              includeImports: req.includeImports,
              includeWellKnownTypes: req.includeWellKnownTypes,
            });
            const response = await runPlugin({
              runtime: opts.runtime,
              plugin: { label, source: v.source },
              request,
              filesToGenerate,
              ...(opts.metrics ? { metrics: opts.metrics } : {}),
              ...(signal ? { signal } : {}),
            });
            checker.check(label, response.file);
            responses.push(response);
          }
          return responses;
        },
        { signal },
      );
      try {
        const responses = await run;
        const files = responses.reduce((n, r) => n + r.file.length, 0);
        opts.log?.info({ caller, plugins, files, ms: ms() }, "remote generation finished");
        return responses;
      } catch (err) {
        const e = RegistryError.from(err);
        opts.log?.warn(
          { caller, plugins, ms: ms(), code: e.code, plugin: e.fields.plugin, error: e.message },
          "remote generation failed",
        );
        throw err;
      }
    },
  };
}
