import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { protoImports, protoImportsOfText } from "./proto-imports.js";

const imports = (text: string) => protoImports(new TextEncoder().encode(text));

describe("proto import scanning", () => {
  it("finds imports at line starts only, as the pattern over the whole text did", () => {
    const text = [
      'syntax = "proto3";',
      'import "a/b.proto";',
      '  import public "c.proto" ;',
      '\timport weak "d.proto";',
      '// import "commented.proto";',
      'option x = "import \\"e.proto\\";";',
      'import "import.proto";import "same-line.proto";',
      'import\n  "split.proto"\n;',
      'importx "no.proto";',
      '\r\nimport "crlf.proto";',
    ].join("\n");
    const pattern = [...text.matchAll(/^\s*import\s+(?:public\s+|weak\s+)?"([^"]+)"\s*;/gm)].map((m) => m[1]);
    assert.deepEqual(imports(text), pattern);
    assert.deepEqual(imports(text), [
      "a/b.proto",
      "c.proto",
      "d.proto",
      "import.proto",
      "split.proto",
      "crlf.proto",
    ]);
  });

  it("accepts single quotes, as protoc does", () => {
    const text = [
      "syntax = 'proto3';",
      "import 'single.proto';",
      "import public 'pub/single.proto';",
      "import weak 'weak/single.proto';",
      `import "it's.proto";`,
      `import 'say "hi".proto';`,
      `import "mixed.proto';`,
    ].join("\n");
    assert.deepEqual(imports(text), [
      "single.proto",
      "pub/single.proto",
      "weak/single.proto",
      "it's.proto",
      'say "hi".proto',
    ]);
  });

  it("skips commented-out imports and keeps those followed by a comment", () => {
    const text = [
      "// import 'line-comment.proto';",
      '  // import "indented-comment.proto";',
      '/* import "same-line-block.proto"; */',
      'import "kept.proto"; // why we need it',
      "import 'also-kept.proto'; /* trailing */",
    ].join("\n");
    assert.deepEqual(imports(text), ["kept.proto", "also-kept.proto"]);
  });

  it("answers the same for bytes and for text, and nothing without the keyword", () => {
    const text = "import 'a.proto';\nmessage M {}\n";
    assert.deepEqual(protoImportsOfText(text), imports(text));
    assert.deepEqual(imports("message M { string importance = 1; }"), []);
  });
});
