// Names and versions of plugin runtime libraries, checked per ecosystem where they are accepted (image labels,
// plugin version creation): they are written verbatim into consumers' go.mod, package.json, METADATA and pom.xml, so
// anything that is not exactly a name or a version (a space, a newline, a `replace` line) must never get in.
import semver from "semver";
import { Code, RegistryError } from "./errors.js";
import type { RuntimeLibraries } from "./types.js";

const maxLength = 256;

/** What is wrong with a Go module path (golang.org/x/mod/module.CheckPath's rules), or undefined. */
export function goModulePathProblem(path: string): string | undefined {
  if (path.length === 0 || path.length > maxLength) return `must be 1-${maxLength} characters`;
  const elements = path.split("/");
  for (const elem of elements) {
    if (elem === "") return "has an empty path element (a leading, trailing or double slash)";
    if (!/^[A-Za-z0-9._~-]+$/.test(elem))
      return `path element ${JSON.stringify(elem)} may only use letters, digits and -._~`;
    if (elem.startsWith(".") || elem.endsWith("."))
      return `path element ${JSON.stringify(elem)} starts or ends with a dot`;
  }
  const first = elements[0] ?? "";
  if (!/^[a-z0-9][a-z0-9.-]*$/.test(first)) {
    return `first path element ${JSON.stringify(first)} must be lowercase letters, digits, dots and dashes`;
  }
  if (!first.includes("."))
    return `first path element ${JSON.stringify(first)} must contain a dot (a domain name)`;
  return undefined;
}

const goSemver =
  /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+incompatible)?$/;

/** What is wrong with a Go module version (canonical semver with a leading v), or undefined. */
export function goVersionProblem(version: string): string | undefined {
  return goSemver.test(version)
    ? undefined
    : "must be a canonical semantic version like v1.2.3 or v0.0.0-2024…-abc";
}

const npmName = /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;
/** Ranges only (`^1.2.3`, `>=1 <2`, `1.x || 2.x`): no URLs, git specs, aliases or tags. */
const npmRangeChars = /^[0-9A-Za-z.^~<>=|*+ -]+$/;

export function npmNameProblem(name: string): string | undefined {
  if (name.length > 214) return "must be at most 214 characters";
  return npmName.test(name) ? undefined : "must be a lowercase npm package name, optionally @scope/name";
}

export function npmVersionProblem(range: string): string | undefined {
  if (
    range.length === 0 ||
    range.length > maxLength ||
    !npmRangeChars.test(range) ||
    !semver.validRange(range)
  ) {
    return "must be a semver version or range like ^1.2.3";
  }
  return undefined;
}

/** PEP 508 project names. */
const pythonName = /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/;
/** PEP 440 specifier clauses (`>=3.20`, `~=4.21,!=4.21.0`, `==1.*`), separated by commas; spaces, no other blanks. */
const pythonClause = / *(~=|===|==|!=|<=|>=|<|>) *[A-Za-z0-9_.!+*-]+ */;
const pythonSpecifier = new RegExp(`^${pythonClause.source}(,${pythonClause.source})*$`);

export function pythonNameProblem(name: string): string | undefined {
  if (name.length > maxLength) return `must be at most ${maxLength} characters`;
  return pythonName.test(name) ? undefined : "must be a PEP 508 project name like protobuf";
}

export function pythonVersionProblem(specifier: string): string | undefined {
  if (specifier.length > maxLength || !pythonSpecifier.test(specifier)) {
    return "must be a PEP 440 specifier like >=4.21 or ~=4.21,!=4.21.0";
  }
  return undefined;
}

/** Maven coordinates: groupId, artifactId and a plain version (no ranges: a pom pins what it was built with). */
const mavenId = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const mavenVersion = /^[A-Za-z0-9][A-Za-z0-9_.+-]*$/;

export function mavenNameProblem(groupId: string, artifactId: string): string | undefined {
  if (groupId.length > maxLength || artifactId.length > maxLength) return "is too long";
  return mavenId.test(groupId) && mavenId.test(artifactId)
    ? undefined
    : "must be GROUP:ARTIFACT of letters, digits, _ . and - (e.g. com.google.protobuf:protobuf-java)";
}

export function mavenVersionProblem(version: string): string | undefined {
  return version.length <= maxLength && mavenVersion.test(version)
    ? undefined
    : "must be a plain Maven version like 3.21.12 (no ranges)";
}

/** RubyGems names: letters, digits, `.`, `-`, `_`, starting with a letter or digit (`google-protobuf`). */
const rubyName = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** One requirement clause (`~> 3.21`, `>= 3.21.0`, `!= 4.0.rc1`); clauses are joined by `, `. */
const rubyClause = /(=|!=|>|<|>=|<=|~>) ?[0-9]+(\.[0-9A-Za-z]+)*/;
const rubyRequirement = new RegExp(`^${rubyClause.source}(, ?${rubyClause.source})*$`);

export function rubyNameProblem(name: string): string | undefined {
  if (name.length > maxLength) return `must be at most ${maxLength} characters`;
  return rubyName.test(name) ? undefined : "must be a gem name like google-protobuf";
}

/** Every clause names its operator: a gem's compact index line and metadata hold them verbatim. */
export function rubyVersionProblem(requirement: string): string | undefined {
  if (requirement.length > maxLength || !rubyRequirement.test(requirement)) {
    return "must be a RubyGems requirement like ~> 3.21 or >= 3.21, < 4";
  }
  return undefined;
}

/** Each library's display, then what is wrong with its name and its version. */
export interface LibraryProblem {
  ecosystem: "go" | "npm" | "python" | "maven" | "ruby";
  /** Position in its ecosystem's list. */
  index: number;
  display: string;
  field: "name" | "version";
  problem: string;
}

/** The first problem of any library, or undefined when all are well-formed. */
export function runtimeLibraryProblem(libs: RuntimeLibraries): LibraryProblem | undefined {
  const found: LibraryProblem[] = [];
  const check = (
    ecosystem: LibraryProblem["ecosystem"],
    index: number,
    display: string,
    name: string | undefined,
    version: string | undefined,
  ) => {
    if (name) found.push({ ecosystem, index, display, field: "name", problem: name });
    else if (version) found.push({ ecosystem, index, display, field: "version", problem: version });
  };
  for (const [i, l] of (libs.go ?? []).entries()) {
    check("go", i, `${l.module}@${l.version}`, goModulePathProblem(l.module), goVersionProblem(l.version));
  }
  for (const [i, l] of (libs.npm ?? []).entries()) {
    check("npm", i, `${l.package}@${l.version}`, npmNameProblem(l.package), npmVersionProblem(l.version));
  }
  for (const [i, l] of (libs.python ?? []).entries()) {
    check(
      "python",
      i,
      `${l.package} ${l.version}`,
      pythonNameProblem(l.package),
      pythonVersionProblem(l.version),
    );
  }
  for (const [i, l] of (libs.maven ?? []).entries()) {
    const display = `${l.groupId}:${l.artifactId}:${l.version}`;
    check("maven", i, display, mavenNameProblem(l.groupId, l.artifactId), mavenVersionProblem(l.version));
  }
  for (const [i, l] of (libs.ruby ?? []).entries()) {
    check("ruby", i, `${l.package} ${l.version}`, rubyNameProblem(l.package), rubyVersionProblem(l.version));
  }
  return found[0];
}

const ecosystemNames = { go: "Go", npm: "npm", python: "Python", maven: "Maven", ruby: "Ruby" } as const;

/** Throws InvalidArgument naming the first malformed library; returns the libraries otherwise. */
export function checkRuntimeLibraries(libs: RuntimeLibraries): RuntimeLibraries {
  const p = runtimeLibraryProblem(libs);
  if (p) {
    throw new RegistryError(
      Code.InvalidArgument,
      `invalid ${ecosystemNames[p.ecosystem]} runtime library ${JSON.stringify(p.display)}: its ${p.field} ${p.problem}`,
    );
  }
  return libs;
}
