import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { netrcMachines, upsertNetrc } from "./netrc.js";

const entry = { machine: "127.0.0.1", login: "alice", password: "pd_secret" };
const line = "machine 127.0.0.1 login alice password pd_secret";

/**
 * The credentials a netrc reader finds for `machine`: keyword/value pairs (`default` stands alone), macro bodies
 * after `macdef` skipped up to an empty line, the first matching machine wins.
 */
function credentialsFor(text: string, machine: string): { login?: string; password?: string } | undefined {
  const words: string[] = [];
  let inMacro = false;
  for (const l of text.split("\n")) {
    if (inMacro) {
      inMacro = l !== "";
      continue;
    }
    if (l.trimStart().startsWith("#")) continue;
    const fields = l.split(/\s+/).filter(Boolean);
    words.push(...fields);
    if (fields.includes("macdef")) inMacro = true;
  }
  let found: { login?: string; password?: string } | undefined;
  for (let i = 0; i < words.length; ) {
    const key = words[i];
    if (key === "default") {
      if (found) return found;
      i += 1;
      continue;
    }
    const value = words[i + 1] ?? "";
    if (key === "machine") {
      if (found) return found;
      if (value === machine) found = {};
    } else if (found && (key === "login" || key === "password")) {
      found[key] = value;
    }
    i += 2;
  }
  return found;
}

const host = fc.constantFrom("github.com", "127.0.0.1:8080", "example.com", "127.0.0.2", "proxy.golang.org");
const value = fc.stringMatching(/^[A-Za-z0-9_.-]{1,10}$/);
// Entries of other machines, in the shapes people write them, plus comments, blank lines and (in LF files: go
// never ends a macro in a CRLF file) macros.
const block = (eol: string) =>
  fc.oneof(
    fc.tuple(host, value, value).map(([m, l, p]) => `machine ${m} login ${l} password ${p}`),
    fc.tuple(host, value, value).map(([m, l, p]) => `machine ${m}${eol}  login ${l}${eol}  password ${p}`),
    fc.tuple(host, value).map(([m, p]) => `\tmachine ${m} password ${p} account x`),
    fc.stringMatching(/^#[^\r\n]{0,20}$/),
    fc.constant(""),
    ...(eol === "\n"
      ? [value.map((v) => `macdef init\ncd ${v}\nmachine 127.0.0.1 login inside password macro\n`)]
      : []),
  );
const file = fc.constantFrom("\n", "\r\n").chain((eol) =>
  fc
    .record({ blocks: fc.array(block(eol), { maxLength: 8 }), fallback: fc.boolean(), final: fc.boolean() })
    .map(({ blocks, fallback, final }) => {
      const all = fallback ? [...blocks, "default login anonymous password x"] : blocks;
      return { eol, blocks: all, final, text: all.length ? all.join(eol) + (final ? eol : "") : "" };
    }),
);

describe("netrcMachines", () => {
  it("names the host without the port for go and with it for buf", () => {
    assert.deepEqual(netrcMachines("http://127.0.0.1:8080"), ["127.0.0.1", "127.0.0.1:8080"]);
    assert.deepEqual(netrcMachines("https://registry.example.com"), ["registry.example.com"]);
    assert.deepEqual(netrcMachines("https://registry.example.com:443"), ["registry.example.com"]);
    assert.deepEqual(netrcMachines("https://[::1]:8443"), ["::1", "[::1]:8443"]);
  });
});

describe("upsertNetrc", () => {
  it("writes one line into an empty file", () => {
    assert.equal(upsertNetrc("", entry), `${line}\n`);
  });

  it("replaces a multi-line entry of the same machine by one line and drops later duplicates", () => {
    const before = [
      "machine github.com login me password gh",
      "machine 127.0.0.1",
      "  login old",
      "  password pd_old",
      "machine 127.0.0.1:8080 login old password pd_old",
      "machine 127.0.0.1 login dup password pd_dup",
      "machine example.com login x password y",
      "",
    ].join("\n");
    assert.equal(
      upsertNetrc(before, entry),
      [
        "machine github.com login me password gh",
        line,
        "machine 127.0.0.1:8080 login old password pd_old",
        "machine example.com login x password y",
        "",
      ].join("\n"),
    );
  });

  it("edits an entry that shares its line with others without touching them", () => {
    assert.equal(
      upsertNetrc(
        "machine a login x password y machine 127.0.0.1 login o password p machine b login z password w\n",
        entry,
      ),
      `machine a login x password y ${line} machine b login z password w\n`,
    );
  });

  it("adds before a default entry, which must stay last", () => {
    assert.equal(
      upsertNetrc("machine a login x password y\ndefault login anon password z\n", entry),
      `machine a login x password y\n${line}\ndefault login anon password z\n`,
    );
    assert.equal(
      upsertNetrc("machine a login x password y default login anon password z\n", entry),
      `machine a login x password y ${line} default login anon password z\n`,
    );
  });

  it("leaves macro bodies and comments alone, and closes a macro the file leaves open", () => {
    const macro = "macdef init\nmachine 127.0.0.1 login in password macro\n\n";
    assert.equal(upsertNetrc(macro, entry), `${macro}${line}\n`);
    assert.equal(
      upsertNetrc("# machine 127.0.0.1 login c password d\n", entry),
      `# machine 127.0.0.1 login c password d\n${line}\n`,
    );
    const open = "macdef init\ncd /pub";
    const after = upsertNetrc(open, entry);
    assert.equal(after, `${open}\n\n${line}\n`);
    assert.deepEqual(credentialsFor(after, "127.0.0.1"), { login: "alice", password: "pd_secret" });
  });

  it("refuses values netrc cannot hold", () => {
    assert.throws(() => upsertNetrc("", { ...entry, password: "two words" }), /without spaces/);
    assert.throws(() => upsertNetrc("", { ...entry, login: "" }), /non-empty/);
  });

  it("property: other bytes stay, our machine reads back, twice changes nothing", () => {
    fc.assert(
      fc.property(file, ({ text }) => {
        const eol = text.includes("\r\n") ? "\r\n" : "\n";
        const once = upsertNetrc(text, entry);
        assert.equal(upsertNetrc(once, entry), once, "idempotent");
        assert.deepEqual(credentialsFor(once, "127.0.0.1"), { login: "alice", password: "pd_secret" });
        // Nothing was ours before, so without our line the file is the old one, at most with line ends added at
        // its end (an unterminated last line; an empty line closing a macro left open).
        const at = once.indexOf(`${line}${eol}`);
        assert.ok(at >= 0, "our line, on a line of its own");
        const rest = once.slice(0, at) + once.slice(at + line.length + eol.length);
        assert.ok(rest.startsWith(text), "the old bytes, in order");
        assert.match(rest.slice(text.length), /^(\r?\n)?\n?$/);
        for (const m of ["github.com", "127.0.0.1:8080", "example.com"]) {
          assert.deepEqual(credentialsFor(once, m), credentialsFor(text, m), m);
        }
      }),
    );
  });

  it("property: a stale entry of ours anywhere among others is replaced, the others untouched", () => {
    fc.assert(
      fc.property(file, fc.nat(), fc.boolean(), ({ blocks, eol, final }, at, multiLine) => {
        const stale = multiLine
          ? `machine 127.0.0.1${eol}  login old${eol}  password pd_old`
          : "machine 127.0.0.1 login old password pd_old";
        // Between blocks, before any macro (whose body would hide it) and before the default entry.
        const limit = blocks.findIndex((b) => b.startsWith("macdef") || b.startsWith("default"));
        const withStale = [...blocks];
        withStale.splice(at % ((limit < 0 ? blocks.length : limit) + 1), 0, stale);
        const before = withStale.join(eol) + (final ? eol : "");
        const after = upsertNetrc(before, entry);
        assert.equal(after, before.replace(stale, line));
      }),
    );
  });
});
