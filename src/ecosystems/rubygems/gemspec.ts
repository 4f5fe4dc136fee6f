// A generated gem's specification in the two forms clients read: the YAML inside the .gem (metadata.gz) and the
// Marshal'd quick spec `gem install` fetches from /quick/Marshal.4.8/ (and caches forever, so it must never change).
import { marshalDump, type RubyValue } from "./marshal.js";

/** One requirement clause: an operator and a version, `["~>", "3.21"]`. */
export type RequirementClause = [op: string, version: string];

export interface GemDependency {
  name: string;
  /** Clauses all of which hold (`>= 3.21, < 4`). */
  requirement: RequirementClause[];
}

export interface GemSpec {
  name: string;
  version: string;
  summary: string;
  /** Runtime dependencies, in the order the gem lists them. */
  dependencies: GemDependency[];
  /** Every file of the gem, sorted (the YAML only). */
  files: string[];
  requiredRubyVersion: RequirementClause[];
}

/** The only date our specs carry: a constant, so the same inputs give the same bytes (and the same checksum). */
const fixedDate = "2000-01-01";
/** What the specs say wrote them: the RubyGems release these forms were checked against. */
const rubygemsVersion = "3.3.15";
const author = "protodepot";

/** `~> 3.21`, `>= 3.21, < 4`; a clause without an operator means `=`, as in RubyGems. */
export function parseRequirement(text: string): RequirementClause[] {
  return text.split(",").map((clause) => {
    const m = /^\s*(=|!=|>=|<=|>|<|~>)?\s*(\S+)\s*$/.exec(clause);
    if (!m?.[2]) throw new RangeError(`not a RubyGems requirement: ${JSON.stringify(text)}`);
    return [m[1] ?? "=", m[2]];
  });
}

/** The compact index's form of a requirement: clauses joined by `&` (`>= 3.21&< 4`). */
export function compactRequirement(clauses: readonly RequirementClause[]): string {
  return clauses.map(([op, v]) => `${op} ${v}`).join("&");
}

// YAML: every scalar a JSON string, which is a valid YAML double-quoted scalar, so no value can break the document.
const q = (text: string) => JSON.stringify(text);

function yamlRequirement(clauses: readonly RequirementClause[], indent: string): string[] {
  return [
    "!ruby/object:Gem::Requirement",
    `${indent}requirements:`,
    ...clauses.flatMap(([op, v]) => [
      `${indent}- - ${q(op)}`,
      `${indent}  - !ruby/object:Gem::Version`,
      `${indent}    version: ${q(v)}`,
    ]),
  ];
}

/** The metadata.gz document, as Psych reads it into a Gem::Specification (keys in `gem build`'s order). */
export function renderSpecYaml(spec: GemSpec): string {
  const [reqFirst = "", ...reqRest] = yamlRequirement(spec.requiredRubyVersion, "  ");
  const [anyFirst = "", ...anyRest] = yamlRequirement([[">=", "0"]], "  ");
  const lines = [
    "--- !ruby/object:Gem::Specification",
    `name: ${q(spec.name)}`,
    "version: !ruby/object:Gem::Version",
    `  version: ${q(spec.version)}`,
    "platform: ruby",
    "authors:",
    `- ${q(author)}`,
    "bindir: bin",
    "cert_chain: []",
    `date: ${fixedDate} 00:00:00.000000000 Z`,
    spec.dependencies.length ? "dependencies:" : "dependencies: []",
    ...spec.dependencies.flatMap((d) => {
      const [first = "", ...rest] = yamlRequirement(d.requirement, "    ");
      return [
        "- !ruby/object:Gem::Dependency",
        `  name: ${q(d.name)}`,
        `  requirement: ${first}`,
        ...rest,
        "  type: :runtime",
        "  prerelease: false",
        `  version_requirements: ${first}`,
        ...rest,
      ];
    }),
    "executables: []",
    "extensions: []",
    "extra_rdoc_files: []",
    spec.files.length ? "files:" : "files: []",
    ...spec.files.map((f) => `- ${q(f)}`),
    "licenses: []",
    "metadata: {}",
    "rdoc_options: []",
    "require_paths:",
    "- lib",
    `required_ruby_version: ${reqFirst}`,
    ...reqRest,
    `required_rubygems_version: ${anyFirst}`,
    ...anyRest,
    "requirements: []",
    `rubygems_version: ${q(rubygemsVersion)}`,
    "specification_version: 4",
    `summary: ${q(spec.summary)}`,
    "test_files: []",
  ];
  return `${lines.join("\n")}\n`;
}

const version = (v: string): RubyValue => ({ userMarshal: "Gem::Version", value: [v] });
const requirement = (clauses: readonly RequirementClause[]): RubyValue => ({
  userMarshal: "Gem::Requirement",
  value: [clauses.map(([op, v]) => [op, version(v)])],
});

/**
 * Marshal.dump of the Gem::Specification (its `_dump`: a 19-element array, itself Marshal'd), before the deflate
 * the quick spec adds. The date is the string form `Specification#date=` accepts, not a Time.
 */
export function quickSpecMarshal(spec: GemSpec): Uint8Array {
  const fields: RubyValue[] = [
    rubygemsVersion,
    4,
    spec.name,
    version(spec.version),
    fixedDate,
    spec.summary,
    requirement(spec.requiredRubyVersion),
    requirement([[">=", "0"]]),
    "ruby",
    spec.dependencies.map((d) => ({
      object: "Gem::Dependency",
      ivars: [
        ["@name", d.name],
        ["@requirement", requirement(d.requirement)],
        ["@type", { symbol: "runtime" }],
        ["@prerelease", false],
        ["@version_requirements", requirement(d.requirement)],
      ],
    })),
    "",
    null,
    [author],
    null,
    null,
    true,
    "ruby",
    [],
    { hash: [] },
  ];
  return marshalDump({ userDump: "Gem::Specification", bytes: marshalDump(fields) });
}
