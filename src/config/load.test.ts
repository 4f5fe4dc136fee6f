import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { envName, loadConfig } from "./load.js";

describe("config", () => {
  it("has defaults for everything", () => {
    const c = loadConfig({ env: {} });
    assert.equal(c.server.port, 8080);
    assert.equal(c.dataDir, ".protodepot");
    assert.equal(c.go.host, "protodepot.local");
    assert.equal(c.npm.scope, "protodepot");
  });

  it("derives env names from the key path", () => {
    assert.equal(envName(["limits", "maxUploadBytes"]), "PROTODEPOT_LIMITS_MAX_UPLOAD_BYTES");
    assert.equal(envName(["go", "host"]), "PROTODEPOT_GO_HOST");
    assert.equal(envName(["adminToken"]), "PROTODEPOT_ADMIN_TOKEN");
  });

  it("layers file < env < overrides", async () => {
    const dir = await mkdtemp(join(tmpdir(), "protodepot-config-"));
    const file = join(dir, "config.yaml");
    await writeFile(file, "server:\n  port: 9000\n  host: 0.0.0.0\nnpm:\n  scope: acme\n");
    const c = loadConfig({
      file,
      env: { PROTODEPOT_SERVER_PORT: "9100" },
      overrides: { npm: { scope: "over" } },
    });
    assert.equal(c.server.port, 9100);
    assert.equal(c.server.host, "0.0.0.0");
    assert.equal(c.npm.scope, "over");
  });

  it("refuses invalid configuration at start, listing each problem", () => {
    assert.throws(
      () => loadConfig({ env: { PROTODEPOT_GO_HOST: "localhost:8080", PROTODEPOT_SERVER_PORT: "70000" } }),
      (err: Error) => /go\.host: go host must be/.test(err.message) && /server\.port/.test(err.message),
    );
    assert.throws(() => loadConfig({ env: {}, overrides: { serverr: {} } }), /Unrecognized key/);
  });
});

describe("server.tls", () => {
  it("takes the certificate and key from env, as a pair", () => {
    const c = loadConfig({
      env: { PROTODEPOT_SERVER_TLS_CERT: "/etc/pd/cert.pem", PROTODEPOT_SERVER_TLS_KEY: "/etc/pd/key.pem" },
    });
    assert.deepEqual(c.server.tls, { cert: "/etc/pd/cert.pem", key: "/etc/pd/key.pem" });
    assert.deepEqual(loadConfig({ env: {} }).server.tls, {});
  });

  it("refuses a certificate without its key and a key without its certificate", () => {
    for (const env of [{ PROTODEPOT_SERVER_TLS_CERT: "/c.pem" }, { PROTODEPOT_SERVER_TLS_KEY: "/k.pem" }]) {
      assert.throws(
        () => loadConfig({ env }),
        /server\.tls: set both server\.tls\.cert and server\.tls\.key/,
      );
    }
  });
});

describe("examples/config.yaml", () => {
  it("is valid and states the defaults", () => {
    const file = new URL("../../examples/config.yaml", import.meta.url).pathname;
    assert.deepEqual(loadConfig({ file, env: {} }), loadConfig({ env: {} }));
  });
});
