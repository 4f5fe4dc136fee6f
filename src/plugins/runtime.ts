// The seam between the generation engine and whatever executes a plugin (a host command, or a pushed image).
import { Code, RegistryError } from "../core/errors.js";
import type { PluginSource } from "../core/types.js";
import type { StdoutParts } from "./sandbox/field-parts.js";

export interface PluginRun {
  source: PluginSource;
  /**
   * CodeGeneratorRequest bytes, written to the plugin's stdin: one buffer, or its parts in order (views into the
   * stored image, so a large module's request is never copied whole).
   */
  request: Uint8Array | readonly Uint8Array[];
  /** `owner/name:version`, used in messages, logs and `RegistryError.fields.plugin`. */
  label: string;
  signal?: AbortSignal;
}

export interface PluginRuntime {
  /**
   * Runs one plugin once and returns its stdout: CodeGeneratorResponse bytes in parts of whole fields, not yet
   * parsed.
   * Throws RegistryError: Internal on a non-zero exit, DeadlineExceeded on timeout, ResourceExhausted when stdout
   * passes the output cap, FailedPrecondition when the plugin may not run here (no sandbox), Unavailable when
   * cancelled.
   */
  run(input: PluginRun): Promise<StdoutParts>;
}

/** One runtime per source kind; a run goes to the runtime of its plugin version's source. */
export function createRuntimeByKind(
  runtimes: {
    [K in PluginSource["kind"]]?: PluginRuntime;
  },
): PluginRuntime {
  return {
    run(input) {
      const runtime = runtimes[input.source.kind];
      if (!runtime) {
        return Promise.reject(
          new RegistryError(
            Code.FailedPrecondition,
            `plugin ${input.label} cannot run: this server has no runtime for ${input.source.kind} plugins`,
            { plugin: input.label },
          ),
        );
      }
      return runtime.run(input);
    },
  };
}
