import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { splitLines } from "./lines.js";
import { npmrcEntries, upsertNpmrc } from "./npmrc.js";

const entries = npmrcEntries({
  scope: "protodepot",
  registry: "http://127.0.0.1:8080/npm/",
  token: "pd_secret",
});
const ours = [
  "@protodepot:registry=http://127.0.0.1:8080/npm/",
  "//127.0.0.1:8080/npm/:_authToken=pd_secret",
];

/** What npm ends up with for a key: ini keeps the last assignment. */
function npmValue(text: string, key: string): string | undefined {
  let value: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    const eq = line.indexOf("=");
    if (eq > 0 && !/^\s*[;#[]/.test(line) && line.slice(0, eq).trim() === key)
      value = line.slice(eq + 1).trim();
  }
  return value;
}

// Lines an .npmrc of someone else might hold: other keys, other scopes and hosts, comments, sections, blanks.
const word = fc.stringMatching(/^[a-z0-9@/:._-]{1,12}$/);
const otherLine = fc.oneof(
  fc
    .tuple(word, fc.constantFrom("=", " = ", "= "), fc.stringMatching(/^[^\r\n]{0,20}$/))
    .map(([k, eq, v]) => `${k}${eq}${v}`),
  fc.stringMatching(/^[;#][^\r\n]{0,20}$/),
  fc.constantFrom(
    "",
    "   ",
    "[section]",
    "@other:registry=https://registry.npmjs.org/",
    "//registry.npmjs.org/:_authToken=npm_x",
  ),
);
const ourKeys = new Set(entries.map((e) => e.key));
const foreignLine = otherLine.filter((l) => !ourKeys.has(l.split("=")[0]?.trim() ?? ""));
const file = fc
  .record({
    lines: fc.array(foreignLine, { maxLength: 12 }),
    eol: fc.constantFrom("\n", "\r\n"),
    final: fc.boolean(),
  })
  .map(({ lines, eol, final }) => ({ eol, text: lines.length ? lines.join(eol) + (final ? eol : "") : "" }));

describe("npmrc entries", () => {
  it("nerf-darts the registry URL as npm does, keeping a port and a path prefix", () => {
    assert.deepEqual(
      npmrcEntries({ scope: "acme", registry: "https://registry.example.com:443/tools/npm", token: "t" }),
      [
        { key: "@acme:registry", value: "https://registry.example.com/tools/npm/" },
        { key: "//registry.example.com/tools/npm/:_authToken", value: "t" },
      ],
    );
    assert.deepEqual(
      entries.map((e) => `${e.key}=${e.value}`),
      ours,
    );
  });
});

describe("upsertNpmrc", () => {
  it("writes both lines into an empty file", () => {
    assert.equal(upsertNpmrc("", entries), `${ours.join("\n")}\n`);
  });

  it("replaces the lines of the same scope and host in place and keeps everything else", () => {
    const before = [
      "; my settings",
      "save-exact=true",
      "@protodepot:registry = http://old.example/npm/",
      "@other:registry=https://other.example/",
      "//127.0.0.1:8080/npm/:_authToken=pd_old",
      "//127.0.0.1:9090/npm/:_authToken=pd_other_port",
      "//127.0.0.1:8080/npm/:_authToken=pd_older_duplicate",
      "",
    ].join("\n");
    assert.equal(
      upsertNpmrc(before, entries),
      [
        "; my settings",
        "save-exact=true",
        ours[0],
        "@other:registry=https://other.example/",
        ours[1],
        "//127.0.0.1:9090/npm/:_authToken=pd_other_port",
        "",
      ].join("\n"),
    );
  });

  it("keeps CRLF files CRLF and ends an unterminated last line before appending", () => {
    assert.equal(upsertNpmrc("a=1\r\nb=2", entries), `a=1\r\nb=2\r\n${ours.join("\r\n")}\r\n`);
  });

  it("property: unrelated lines stay byte for byte, in order; ours are added once; twice changes nothing", () => {
    fc.assert(
      fc.property(file, ({ text }) => {
        const once = upsertNpmrc(text, entries);
        assert.equal(upsertNpmrc(once, entries), once, "idempotent");
        // A file of one unterminated line shows no line ending of its own: new lines get "\n".
        const eol = text.includes("\r\n") ? "\r\n" : "\n";
        const expected = text === "" || text.endsWith("\n") ? text : text + eol;
        const kept = splitLines(once).filter((l) => !ours.includes(l.replace(/\r?\n$/, "")));
        assert.equal(kept.join(""), expected);
        for (const e of entries) assert.equal(npmValue(once, e.key), e.value);
      }),
    );
  });

  it("property: stale lines for our keys anywhere are replaced where the first one was", () => {
    const stale = fc.constantFrom(
      "@protodepot:registry=http://stale.example/npm/",
      "  @protodepot:registry = http://stale.example/npm/",
      "//127.0.0.1:8080/npm/:_authToken=pd_stale",
    );
    fc.assert(
      fc.property(
        file,
        fc.array(fc.tuple(stale, fc.nat()), { minLength: 1, maxLength: 4 }),
        ({ text, eol }, inserts) => {
          const lines = text === "" ? [] : text.split(eol);
          for (const [line, at] of inserts) lines.splice(at % (lines.length + 1), 0, line);
          const before = lines.join(eol);
          const after = upsertNpmrc(before, entries);
          assert.equal(upsertNpmrc(after, entries), after);
          for (const e of entries) assert.equal(npmValue(after, e.key), e.value);
          // Every line that is not one of ours is still there, in order.
          const others = (t: string) =>
            t.split(eol).filter((l) => !/(protodepot:registry|8080\/npm\/:_authToken)/.test(l) && l !== "");
          assert.deepEqual(others(after), others(before));
        },
      ),
    );
  });
});
