// The encoder's bytes against what Ruby's Marshal.dump writes (the expected bytes were printed by ruby 3.1), and
// against the real Marshal.load when ruby is installed.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import { marshalDump, type RubyValue } from "./marshal.js";

const hex = (v: RubyValue) => Buffer.from(marshalDump(v)).toString("hex");

function hasRuby(): boolean {
  try {
    execFileSync("ruby", ["-e", "1"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

describe("Marshal encoder", () => {
  it("writes fixnums in Ruby's w_long forms", () => {
    // Marshal.dump(0), (1), (122), (123), (-1), (-123), (-124), (255), (256), (-256), (65536), (2**30-1)
    assert.equal(hex(0), "04086900");
    assert.equal(hex(1), "04086906");
    assert.equal(hex(122), "0408697f");
    assert.equal(hex(123), "040869017b");
    assert.equal(hex(-1), "040869fa");
    assert.equal(hex(-123), "04086980");
    assert.equal(hex(-124), "040869ff84");
    assert.equal(hex(255), "04086901ff");
    assert.equal(hex(256), "040869020001");
    assert.equal(hex(-256), "040869ff00");
    assert.equal(hex(65536), "04086903000001");
    assert.equal(hex(2 ** 30 - 1), "04086904ffffff3f");
    assert.throws(() => marshalDump(2 ** 30), RangeError);
  });

  it("writes strings as UTF-8 with the encoding ivar, and the other kinds by their type bytes", () => {
    assert.equal(hex("ab"), "04084922076162063a064554");
    assert.equal(hex(null), "040830");
    assert.equal(hex([true, false]), "04085b075446");
    assert.equal(hex({ symbol: "runtime" }), `04083a0c${Buffer.from("runtime").toString("hex")}`);
    assert.equal(hex({ hash: [] }), "04087b00");
    assert.throws(() => marshalDump({ symbol: "é" }), /not ASCII/);
  });

  it("is read back by Ruby's Marshal.load", { skip: !hasRuby() && "ruby is not installed" }, () => {
    const value: RubyValue = [
      "héllo",
      -70000,
      { symbol: "runtime" },
      { hash: [["k", [null, 1]]] },
      { userMarshal: "Gem::Version", value: ["1.2.3"] },
      {
        object: "Gem::Dependency",
        ivars: [
          ["@name", "x"],
          ["@type", { symbol: "runtime" }],
        ],
      },
    ];
    const script =
      'require "rubygems"; v = Marshal.load($stdin.binmode.read); ' +
      "d = v[5]; puts [v[0], v[0].encoding, v[1], v[2].inspect, v[3].inspect, v[4].class, v[4].to_s, d.name, d.type.inspect].join('|')";
    const out = execFileSync("ruby", ["-e", script], { input: marshalDump(value) })
      .toString()
      .trim();
    assert.equal(out, 'héllo|UTF-8|-70000|:runtime|{"k"=>[nil, 1]}|Gem::Version|1.2.3|x|:runtime');
  });
});
