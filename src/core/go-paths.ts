// Go naming of generated code: module paths, per-file import paths (`M` plugin options) and package names.
import { posix } from "node:path";

export interface GoModuleName {
  goHost: string;
  templateOwner: string;
  templateName: string;
  moduleOwner: string;
  moduleName: string;
}

/** `{goHost}/{templateOwner}/{templateName}/{moduleOwner}/{moduleName}`. */
export function goModulePath(n: GoModuleName): string {
  return `${n.goHost}/${n.templateOwner}/${n.templateName}/${n.moduleOwner}/${n.moduleName}`;
}

const versionElement = /^v\d+((alpha|beta)\d*)?$/;

/**
 * A valid Go identifier from a proto file's directory, in buf's managed-mode style: `demo/payments/v1` →
 * `paymentsv1`, `acme/pay` → `pay`; a file at the module root takes the module's name.
 */
export function goPackageName(dir: string, fallback: string): string {
  const parts = dir === "." || dir === "" ? [] : dir.split("/");
  const last = parts[parts.length - 1];
  const parent = parts[parts.length - 2];
  const raw = last === undefined ? fallback : versionElement.test(last) && parent ? `${parent}${last}` : last;
  let name = raw.toLowerCase().replace(/[^a-z0-9_]/g, "_");
  if (!/^[a-z_]/.test(name)) name = `_${name}`;
  return name;
}

/** `M{file}={module path}/{dir};{package}` for each proto file of one module. */
export function goImportOptions(modulePath: string, moduleName: string, files: readonly string[]): string[] {
  return files.map((file) => {
    const dir = posix.dirname(file);
    const importPath = dir === "." ? modulePath : `${modulePath}/${dir}`;
    return `M${file}=${importPath};${goPackageName(dir, moduleName)}`;
  });
}

/** Joins a template's parameter with extra options the way protoc plugins read them: comma-separated. */
export function joinParameter(parameter: string, extra: readonly string[]): string {
  return [parameter, ...extra].filter((p) => p !== "").join(",");
}
