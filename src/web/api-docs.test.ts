import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createBufCompiler } from "../compile/buf-compiler.js";
import { readApiDocs, renderApiDocs } from "./api-docs.js";

const enc = (s: string) => new TextEncoder().encode(s);

describe("API docs", () => {
  it("documents packages, messages, fields, enums and services with comments from a real buf image", async () => {
    const { image } = await createBufCompiler({}).compile({
      module: {
        files: [
          {
            path: "a/v1/a.proto",
            content: enc(`syntax = "proto3";
package a.v1;
import "google/protobuf/timestamp.proto";
// A <thing> with a status.
message Thing {
  // When it happened.
  google.protobuf.Timestamp at = 1;
  Status status = 2; // Where it is.
  map<string, Thing> children = 3;
  repeated Inner inner = 4;
  message Inner { bytes b = 1; }
}
enum Status {
  STATUS_UNSPECIFIED = 0;
  // Done.
  STATUS_DONE = 1;
}
// Things, served.
service Things { rpc Watch(Thing) returns (stream Thing); }
`),
          },
        ],
      },
      deps: [],
    });
    const docs = readApiDocs(image, ["a/v1/a.proto"]);
    assert.deepEqual(
      docs.packages.map((p) => p.name),
      ["a.v1"],
    );
    assert.deepEqual([...docs.documented].sort(), [
      "a.v1.Status",
      "a.v1.Thing",
      "a.v1.Thing.Inner",
      "a.v1.Things",
    ]);
    const out = renderApiDocs(docs).text;
    assert.match(out, /<div class="comment">A &lt;thing&gt; with a status.<\/div>/);
    assert.match(
      out,
      /<code>at<\/code><\/td><td><code>google.protobuf.Timestamp<\/code><\/td><td>1<\/td><td><div class="comment">When it happened.<\/div>/,
    );
    assert.match(
      out,
      /<code><a href="#a.v1.Status">a.v1.Status<\/a><\/code><\/td><td>2<\/td><td><div class="comment">Where it is.<\/div>/,
    );
    assert.match(out, /map&lt;string, <a href="#a.v1.Thing">a.v1.Thing<\/a>&gt;/);
    assert.match(out, /repeated <a href="#a.v1.Thing.Inner">a.v1.Thing.Inner<\/a>/);
    assert.match(out, /<code>STATUS_DONE<\/code><\/td><td>1<\/td><td><div class="comment">Done.<\/div>/);
    assert.match(
      out,
      /rpc Watch\(<a href="#a.v1.Thing">a.v1.Thing<\/a>\) returns \(stream <a href="#a.v1.Thing">a.v1.Thing<\/a>\)/,
    );
    assert.match(out, /<div class="comment">Things, served.<\/div>/);
    // Types of other modules the caller may read link to their docs.
    const linked = renderApiDocs(
      readApiDocs(image, ["a/v1/a.proto"], new Map([["google/protobuf/timestamp.proto", "/x/y/docs/c1"]])),
    ).text;
    assert.match(
      linked,
      /<a href="\/x\/y\/docs\/c1#google.protobuf.Timestamp">google.protobuf.Timestamp<\/a>/,
    );
    // Map entries are not messages of their own, and imports are not documented.
    assert.doesNotMatch(out, /ChildrenEntry|id="google/);
  });
});
