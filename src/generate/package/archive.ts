// The archive registry's artifact: the generated files as a deterministic .tar.gz.
import { createTarGz } from "../../packaging/tar.js";
import type { Packager } from "./packager.js";

export const archivePackager: Packager = {
  flavour: "archive",
  async package(files) {
    return { bytes: await createTarGz(files), extra: {} };
  },
};
