// The --runtime-lib flag of `plugin push` and `plugin version create`: one runtime library per flag.
export const runtimeLibHelp =
  "go:MODULE@VERSION, npm:PACKAGE@VERSION, python:PROJECT@SPECIFIER, maven:GROUP:ARTIFACT@VERSION or ruby:GEM@REQUIREMENT (repeatable)";

type Ecosystem = "go" | "npm" | "python" | "maven" | "ruby";

/**
 * `go:MODULE@VERSION`, `npm:PACKAGE@VERSION` (a scoped package keeps its leading @), `python:protobuf@>=3.20`,
 * `maven:com.google.protobuf:protobuf-java@3.21.12`, `ruby:google-protobuf@~> 3.21`.
 */
export function parseRuntimeLib(text: string): { ecosystem: Ecosystem; name: string; version: string } {
  const m = /^(go|npm|python|maven|ruby):(.+)@([^@]+)$/.exec(text);
  if (!m?.[1] || !m[2] || !m[3] || (m[1] === "maven" && m[2].split(":").length !== 2)) {
    throw new Error(`invalid --runtime-lib "${text}": use ${runtimeLibHelp.replace(" (repeatable)", "")}`);
  }
  return { ecosystem: m[1] as Ecosystem, name: m[2], version: m[3] };
}

/** The API's RuntimeLibraries of parsed --runtime-lib flags. */
export function runtimeLibrariesOf(libs: ReturnType<typeof parseRuntimeLib>[]) {
  const of = (e: Ecosystem) => libs.filter((l) => l.ecosystem === e);
  return {
    go: of("go").map((l) => ({ module: l.name, version: l.version })),
    npm: of("npm").map((l) => ({ package: l.name, version: l.version })),
    python: of("python").map((l) => ({ package: l.name, version: l.version })),
    ruby: of("ruby").map((l) => ({ package: l.name, version: l.version })),
    maven: of("maven").map((l) => {
      const [groupId = "", artifactId = ""] = l.name.split(":");
      return { groupId, artifactId, version: l.version };
    }),
  };
}
