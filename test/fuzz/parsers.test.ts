// Property-based tests of every parser of untrusted input: whatever a stranger sends, the answer is the value
// or a RegistryError with a 4xx code and a message — never another exception. Fixed seed, bounded runs.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { parseBufConfig, parseBufLock } from "../../src/compile/buf-config.js";
import { pathProblem, validateModuleFiles } from "../../src/compile/module-files.js";
import { isRegistryError } from "../../src/core/errors.js";
import { checkLabel, parseFullName, parseModuleRef } from "../../src/core/names.js";
import { parseSyntheticVersion } from "../../src/core/synthetic-version.js";
import {
  cargoIndexPath,
  parseCargoCrateName,
  parseCargoIndexPath,
  parseCargoVersion,
} from "../../src/ecosystems/cargo/names.js";
import { escapeGoPath, parseGoVersion, unescapeGoPath } from "../../src/ecosystems/go/names.js";
import { outputPathProblem } from "../../src/generate/output.js";
import { httpStatus } from "../../src/http/status.js";
import { parseArchiveFile } from "../../src/registries/archive/download.js";
import { goQuery, parseGoproxyPath } from "../../src/registries/goproxy/module-path.js";
import { packageParts } from "../../src/registries/npm/catalog.js";
import { packageNameOf } from "../../src/registries/npm/request.js";
import { tarballVersion } from "../../src/registries/npm/tarball.js";

/** Same inputs on every run and in CI; FUZZ_RUNS raises the count for a longer local search. */
export const fuzz = {
  seed: 20261201,
  numRuns: Number(process.env.FUZZ_RUNS ?? 300),
  interruptAfterTimeLimit: 10_000,
};

/** Runs `parse`; a throw must be a RegistryError whose code maps to a 4xx status and whose message is not empty. */
function answersOr4xx(parse: () => unknown): void {
  try {
    parse();
  } catch (err) {
    assert.ok(
      isRegistryError(err),
      `threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`,
    );
    const status = httpStatus[err.code];
    assert.ok(status >= 400 && status < 500, `${err.code} (${status}): ${err.message}`);
    assert.ok(err.message.length > 10, `message too short: ${err.message}`);
  }
}

/** Text that looks like what it is meant to be, mixed with anything at all. */
const nameish = fc.oneof(
  fc.string(),
  fc.stringMatching(/^[a-z0-9-]{0,70}$/),
  fc.stringMatching(/^[a-zA-Z0-9._/-]{0,80}$/),
  fc.constantFrom("", "-", "a", "aa", "a-", "-a", "a_b", "A", "ab/cd", "..", "%2f", "\u0000", "é"),
);

const yamlScalar = fc.oneof(
  nameish,
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom("buf.build/acme/pay", "acme/pay", "buf.build/acme/pay:main", "v1", "v2", "v3"),
);
const yamlValue = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    yamlScalar,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(
      fc.constantFrom("version", "name", "deps", "modules", "path", "commit", "owner", "repository", "x"),
      tie("value"),
      { maxKeys: 5 },
    ),
  ),
})).value;

/** Nested anchors and aliases: each level repeats the one before, the shape of a "billion laughs". */
const aliasBomb = fc
  .tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 2, max: 12 }), fc.boolean())
  .map(([levels, width, v2]) => {
    const lines = [`version: ${v2 ? "v2" : "v1"}`, 'l0: &l0 ["lol"]'];
    for (let i = 1; i <= levels; i++)
      lines.push(
        `l${i}: &l${i} [${Array(width)
          .fill(`*l${i - 1}`)
          .join(",")}]`,
      );
    return `${lines.join("\n")}\ndeps: *l${levels}\n`;
  });

/** A YAML document: a structured one dumped as JSON (valid YAML), or raw text with YAML's special characters. */
const yamlText = fc.oneof(
  aliasBomb,
  yamlValue.map((v) => JSON.stringify(v) ?? ""),
  fc.stringMatching(/^[a-z0-9 :\-\n&*![\]{}|>'"#%@`,?]{0,200}$/),
  fc.string({ maxLength: 300 }),
);

describe("fuzzing the parsers of untrusted input", () => {
  it("buf.yaml and buf.lock", () => {
    fc.assert(
      fc.property(
        yamlText,
        fc.option(yamlText, { nil: undefined }),
        fc.option(nameish, { nil: undefined }),
        (bufYaml, bufLock, moduleName) => {
          answersOr4xx(() =>
            parseBufConfig({
              bufYaml,
              ...(bufLock === undefined ? {} : { bufLock }),
              ...(moduleName === undefined ? {} : { moduleName }),
            }),
          );
          answersOr4xx(() => parseBufLock(bufYaml));
        },
      ),
      fuzz,
    );
  });

  it("upload file lists", () => {
    const path = fc.oneof(
      nameish,
      fc.constantFrom("buf.yaml", "buf.lock", "a/b.proto", "google/protobuf/x.proto"),
    );
    const file = fc.record({ path, content: fc.uint8Array({ maxLength: 64 }) });
    fc.assert(
      fc.property(fc.array(file, { maxLength: 12 }), (files) => {
        answersOr4xx(() => validateModuleFiles(files, { maxFiles: 8, maxFileBytes: 48 }));
        for (const f of files) {
          assert.equal(typeof (pathProblem(f.path) ?? ""), "string");
          assert.equal(typeof (outputPathProblem(f.path) ?? ""), "string");
        }
      }),
      fuzz,
    );
  });

  it("owner, module, template and plugin names, references and labels", () => {
    fc.assert(
      fc.property(
        nameish,
        fc.constantFrom("module", "template", "plugin", "owner"),
        fc.boolean(),
        (text, kind, allowHost) => {
          answersOr4xx(() => parseFullName(kind, text, { allowHost }));
          answersOr4xx(() => parseModuleRef(text));
          answersOr4xx(() => checkLabel(text));
        },
      ),
      fuzz,
    );
  });

  it("synthetic and Go versions, and Go queries", () => {
    const module = {
      path: "protodepot.local/a/b/c/d",
      template: { owner: "a", name: "b" },
      module: { owner: "c", name: "d" },
    };
    const versionish = fc.oneof(nameish, fc.stringMatching(/^v?[0-9.]{0,12}(-[a-z0-9.]{0,6})?$/));
    fc.assert(
      fc.property(versionish, (text) => {
        answersOr4xx(() => parseSyntheticVersion(text));
        answersOr4xx(() => parseGoVersion(text, module));
        const query = goQuery(text);
        if (query !== undefined) assert.doesNotMatch(query, /^v\d/);
      }),
      fuzz,
    );
  });

  it("Go escaped paths: unescape inverts escape, and any request path parses or 4xx", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-zA-Z0-9./-]{0,60}$/), (path) => {
        assert.equal(unescapeGoPath(escapeGoPath(path)), path);
      }),
      fuzz,
    );
    const segment = fc.oneof(
      nameish,
      fc.constantFrom("protodepot.local", "@v", "@latest", "list", "v1.1.1.info", "!a", "main.zip"),
    );
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 8 }), (segments) => {
        answersOr4xx(() => parseGoproxyPath(segments.join("/"), "protodepot.local"));
      }),
      fuzz,
    );
  });

  it("npm package names and tarball file names", () => {
    fc.assert(
      fc.property(fc.option(nameish, { nil: undefined }), nameish, nameish, (scope, name, file) => {
        answersOr4xx(() => packageNameOf(scope === undefined ? { name } : { scope, name }));
        answersOr4xx(() => packageParts(scope ?? "protodepot", name));
        answersOr4xx(() => tarballVersion(`@${scope ?? "protodepot"}/${name}`, name, file));
      }),
      fuzz,
    );
  });

  it("cargo index paths, crate names and versions: a path reads back only as the crate it is the path of", () => {
    const path = fc.oneof(
      nameish,
      fc.tuple(nameish, nameish, nameish).map(([a, b, c]) => `${a}/${b}/${c}`),
      nameish.map((n) => cargoIndexPath(n)),
    );
    fc.assert(
      fc.property(path, nameish, (p, text) => {
        const crate = parseCargoIndexPath(p);
        if (crate !== undefined) assert.equal(cargoIndexPath(crate), p);
        const parts = parseCargoCrateName(text);
        if (parts) {
          const { template, module } = parts;
          assert.equal(`${template.owner}_${template.name}_${module.owner}_${module.name}`, text);
        }
        const v = parseCargoVersion(text);
        if (v) assert.equal(`1.${v.templateVersion}.${v.commitSeq}`, text);
      }),
      fuzz,
    );
  });

  it("archive file names", () => {
    const file = fc.oneof(
      nameish,
      fc
        .tuple(
          nameish,
          fc.constantFrom(
            ".tar.gz",
            ".include_imports.tar.gz",
            ".include_imports_and_wkt.tar.gz",
            ".include_wkt.tar.gz",
            ".zip",
          ),
        )
        .map(([a, b]) => a + b),
    );
    fc.assert(
      fc.property(file, (name) => answersOr4xx(() => parseArchiveFile(name))),
      fuzz,
    );
  });
});
