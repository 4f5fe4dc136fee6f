// The per-ecosystem name and version rules of runtime libraries: what real plugins use passes, anything that could
// add a line or a directive to a consumer's manifest does not.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  goModulePathProblem,
  goVersionProblem,
  mavenNameProblem,
  mavenVersionProblem,
  npmNameProblem,
  npmVersionProblem,
  pythonNameProblem,
  pythonVersionProblem,
  rubyNameProblem,
  rubyVersionProblem,
} from "./runtime-libraries.js";

const cases: [string, (v: string) => string | undefined, string[], string[]][] = [
  ["ruby gem name", rubyNameProblem, ["google-protobuf", "grpc", "a_b.c-D9"], ["", "-x", "a b", "x\ny", "é"]],
  [
    "ruby requirement",
    rubyVersionProblem,
    ["~> 3.21", ">= 3.21, < 4", "= 1.2.3", ">=3.21,<4", "!= 4.0.rc1"],
    ["", "3.21", "~> 3.21\n", ">= x", "~> 3.21 || 4", ">= 3.21,"],
  ],
  [
    "go module path",
    goModulePathProblem,
    [
      "google.golang.org/protobuf",
      "github.com/grpc-ecosystem/grpc-gateway/v2",
      "connectrpc.com/connect",
      "x.y/A_b~c",
    ],
    [
      "",
      "protobuf",
      "example.com/a b",
      "example.com/x\ngo 1.99",
      "example.com/",
      "/example.com",
      "example.com/.x",
      "Example.com/x",
      "-x.com/y",
      "example.com/a//b",
    ],
  ],
  [
    "go version",
    goVersionProblem,
    ["v1.28.1", "v0.0.0-20240101000000-abcdefabcdef", "v2.0.0+incompatible", "v1.2.3-rc.1"],
    ["1.28.1", "v1.28", "v1.0.0 ", "v1.0.0\ngo 1.99", "v01.0.0", "v1.0.0+meta", "latest"],
  ],
  [
    "npm name",
    npmNameProblem,
    ["@bufbuild/protobuf", "protobufjs", "left-pad"],
    ["X", "a b", "@/x", "x\n", "../x"],
  ],
  [
    "npm range",
    npmVersionProblem,
    ["^2.2.0", "7.2.0", ">=1 <2", "1.x || 2.x", "~1.2.3-beta.1"],
    ["", "latest", "github:evil/x", "file:../x", "^1.0.0\n", "npm:other@1"],
  ],
  [
    "python name",
    pythonNameProblem,
    ["protobuf", "grpcio-tools", "zope.interface"],
    ["", "-x", "a b", "x; os_name=='nt'"],
  ],
  [
    "python specifier",
    pythonVersionProblem,
    [">=3.20", "~=4.21,!=4.21.0", ">=1.51, <2", "==1.*"],
    ["4.21", ">=4\nRequires-Dist: evil", ">=4;python_version<'3'", ""],
  ],
  ["maven version", mavenVersionProblem, ["3.21.12", "1.0.0-SNAPSHOT"], ["[1.0,2.0)", "1.0</version>", ""]],
];

for (const [what, problem, good, bad] of cases) {
  test(`${what}: accepts real ones, refuses the rest`, () => {
    for (const v of good) assert.equal(problem(v), undefined, `${what} ${JSON.stringify(v)} is fine`);
    for (const v of bad) assert.notEqual(problem(v), undefined, `${what} ${JSON.stringify(v)} is refused`);
  });
}

test("maven coordinates", () => {
  assert.equal(mavenNameProblem("com.google.protobuf", "protobuf-java"), undefined);
  assert.notEqual(mavenNameProblem("com.google", "x<y"), undefined);
  assert.notEqual(mavenNameProblem("", "x"), undefined);
});
