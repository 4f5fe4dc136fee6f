// What a push of a module directory says about itself: its buf.yaml and buf.lock, and the module's name.
import { checkConfigSize, parseBufConfig } from "../../compile/buf-config.js";
import { Code, RegistryError } from "../../core/errors.js";
import { type FullName, parseFullName } from "../../core/names.js";
import type { ModuleFile } from "./files.js";

/** buf.yaml (and buf.lock) of a push, each size checked before it is decoded. */
export function pushConfig(input: { files: readonly ModuleFile[]; module?: string | undefined }) {
  const bufYaml = input.files.find((f) => f.path === "buf.yaml");
  if (!bufYaml) throw new RegistryError(Code.InvalidArgument, "buf.yaml is missing: push a module directory");
  const bufLock = input.files.find((f) => f.path === "buf.lock");
  checkConfigSize("buf.yaml", bufYaml.content.byteLength);
  if (bufLock) checkConfigSize("buf.lock", bufLock.content.byteLength);
  return parseBufConfig({
    bufYaml: new TextDecoder().decode(bufYaml.content),
    ...(bufLock ? { bufLock: new TextDecoder().decode(bufLock.content) } : {}),
    ...(input.module ? { moduleName: input.module } : {}),
  });
}

/** The module a push is for: --module, else buf.yaml's name; both given, they must agree. */
export function resolveModuleName(
  requested: string | undefined,
  fromConfig: FullName | undefined,
  version: "v1" | "v2",
): FullName {
  if (requested) {
    const name = parseFullName("module", requested);
    if (fromConfig && (fromConfig.owner !== name.owner || fromConfig.name !== name.name)) {
      throw new RegistryError(
        Code.InvalidArgument,
        `buf.yaml names module ${fromConfig.owner}/${fromConfig.name}, but the push is for ${name.owner}/${name.name}`,
      );
    }
    return name;
  }
  if (!fromConfig) {
    throw new RegistryError(
      Code.InvalidArgument,
      version === "v1"
        ? "the module has no name: set `name: HOST/OWNER/MODULE` in buf.yaml or pass --module OWNER/NAME"
        : "the module has no name: set `name: HOST/OWNER/MODULE` in buf.yaml (under its entry in `modules:`, or at the top when buf.yaml has no `modules:`), or pass --module OWNER/NAME",
    );
  }
  return fromConfig;
}
