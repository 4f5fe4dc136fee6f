// The sparse index's documents as cargo reads them: config.json per root, one JSON line per version.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderConfig, renderIndexFile } from "./render.js";
import { cargoAuthorization } from "./request.js";

describe("cargo index rendering", () => {
  it("config.json: dl and api under the root; auth-required only under the token root", () => {
    assert.deepEqual(JSON.parse(renderConfig("http://h/cargo", false)), {
      dl: "http://h/cargo/crates/{crate}/{version}/download",
      api: "http://h/cargo",
    });
    assert.equal(JSON.parse(renderConfig("http://h/cargo/token", true))["auth-required"], true);
  });

  it("index file: one line per version, oldest first, fields in crates.io's order", () => {
    const dep = {
      name: "prost",
      req: "0.11",
      features: [],
      optional: false,
      default_features: true,
      target: null,
      kind: "normal" as const,
      registry: "https://github.com/rust-lang/crates.io-index",
    };
    const text = renderIndexFile("protodepot_rust_demo_money", [
      { version: "1.1.1", cksum: "a".repeat(64), deps: [dep] },
      { version: "1.1.2", cksum: "b".repeat(64), deps: [] },
    ]);
    const lines = text.split("\n");
    assert.equal(lines.length, 3);
    assert.equal(lines[2], "");
    assert.equal(
      lines[1],
      `{"name":"protodepot_rust_demo_money","vers":"1.1.2","deps":[],"cksum":"${"b".repeat(64)}","features":{},"yanked":false}`,
    );
    assert.deepEqual(JSON.parse(lines[0] ?? "").deps, [dep]);
    assert.equal(renderIndexFile("x", []), "");
  });

  it("reads cargo's bare token as Bearer and leaves schemes alone", () => {
    assert.equal(cargoAuthorization("pd_abc"), "Bearer pd_abc");
    assert.equal(cargoAuthorization("Bearer pd_abc"), "Bearer pd_abc");
    assert.equal(cargoAuthorization("Basic eDpwZF9hYmM="), "Basic eDpwZF9hYmM=");
  });
});
