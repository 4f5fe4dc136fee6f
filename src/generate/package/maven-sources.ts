// The Maven repository's `-sources.jar` beside each jar: the generated sources as plugins wrote them, for IDEs
// (`mvn dependency:sources`). No compile step, so it never fails where the jar builds.
import { createJar } from "../../packaging/jar.js";
import { mavenChecksums } from "./maven.js";
import type { Packager } from "./packager.js";

export const mavenSourcesPackager: Packager<"maven-sources"> = {
  flavour: "maven-sources",
  // The module's own files, as in its jar: dependency modules have their own sources jars.
  fixedScope: "module",
  async package(files) {
    // createJar writes the manifest first, then entries in byte order with one fixed time: deterministic.
    const bytes = await createJar(files.map((f) => ({ path: f.path, content: f.content })));
    const { sha1, md5 } = await mavenChecksums(bytes);
    return { bytes, extra: { sha1, md5 } };
  },
};
