// The archive registry's artifacts: the generated files as a deterministic .tar.gz, or the same files as a .zip.

import { createTarGz } from "../../packaging/tar.js";
import { createZip } from "../../packaging/zip.js";
import type { GeneratedFile, Packager } from "./packager.js";

export const archivePackager: Packager<"archive"> = {
  flavour: "archive",
  async package(files) {
    return { bytes: await createTarGz(files), extra: {} };
  },
};

const byBytes = (a: { path: string }, b: { path: string }) =>
  Buffer.compare(Buffer.from(a.path, "utf8"), Buffer.from(b.path, "utf8"));

/** The tar.gz's files in its order (paths in byte order), for consumers that only unpack zips. */
export function createArchiveZip(files: readonly GeneratedFile[]): Promise<Uint8Array> {
  return createZip([...files].sort(byBytes));
}

export const zipArchivePackager: Packager<"zip"> = {
  flavour: "zip",
  async package(files) {
    return { bytes: await createArchiveZip(files), extra: {} };
  },
};
