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
    assert.equal(c.maven.groupId, "protodepot.gen");
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

  it("reads auth.oidc from PROTODEPOT_AUTH_OIDC as JSON, with defaults per provider", () => {
    const oidc = [{ name: "corp", issuer: "https://idp.example.com", clientId: "protodepot" }];
    const c = loadConfig({
      env: { PROTODEPOT_AUTH_OIDC: JSON.stringify(oidc), PROTODEPOT_AUTH_LOCAL_SIGN_IN: "false" },
    });
    assert.equal(c.auth.localSignIn, false);
    assert.equal(c.auth.oidc[0]?.usernameClaim, "preferred_username");
    assert.equal(c.auth.oidc[0]?.groupsClaim, "groups");
    assert.equal(c.auth.oidc[0]?.allowInsecureIssuer, false);
    assert.throws(
      () => loadConfig({ env: { PROTODEPOT_AUTH_OIDC: "[{" } }),
      /PROTODEPOT_AUTH_OIDC must hold JSON/,
    );
  });

  it("refuses turning local sign-in off without a provider, and two providers of one name", () => {
    assert.throws(
      () => loadConfig({ env: { PROTODEPOT_AUTH_LOCAL_SIGN_IN: "false" } }),
      /needs at least one auth.oidc/,
    );
    const one = { name: "corp", issuer: "https://idp.example.com", clientId: "a" };
    assert.throws(() => loadConfig({ overrides: { auth: { oidc: [one, one] } }, env: {} }), /its own name/);
  });

  it("refuses invalid configuration at start, listing each problem", () => {
    assert.throws(
      () => loadConfig({ env: { PROTODEPOT_GO_HOST: "localhost:8080", PROTODEPOT_SERVER_PORT: "70000" } }),
      (err: Error) => /go\.host: go host must be/.test(err.message) && /server\.port/.test(err.message),
    );
    assert.throws(() => loadConfig({ env: {}, overrides: { serverr: {} } }), /Unrecognized key/);
    for (const groupId of ["acme..gen", ".acme", "acme/gen", "acme gen", "a<b"]) {
      assert.throws(
        () => loadConfig({ env: { PROTODEPOT_MAVEN_GROUP_ID: groupId } }),
        /maven\.groupId: maven groupId must be dot-separated segments/,
        groupId,
      );
    }
    assert.equal(
      loadConfig({ env: { PROTODEPOT_MAVEN_GROUP_ID: "com.acme.gen" } }).maven.groupId,
      "com.acme.gen",
    );
    assert.throws(
      () => loadConfig({ file: "/nonexistent/confg.yaml", env: {} }),
      /config file \/nonexistent\/confg\.yaml does not exist: check the path given to --config/,
    );
  });

  it("reads trustProxy and metrics access from the environment", () => {
    const c = loadConfig({
      env: { PROTODEPOT_SERVER_TRUST_PROXY: "true", PROTODEPOT_SERVER_METRICS: "public" },
    });
    assert.equal(c.server.trustProxy, true);
    assert.equal(c.server.metrics, "public");
    assert.equal(
      loadConfig({ env: { PROTODEPOT_SERVER_TRUST_PROXY: "127.0.0.1" } }).server.trustProxy,
      "127.0.0.1",
    );
    assert.equal(loadConfig({ env: {} }).server.metrics, "admin");
    assert.throws(() => loadConfig({ env: { PROTODEPOT_SERVER_METRICS: "everyone" } }), /server\.metrics/);
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

describe("storage drivers", () => {
  it("reads per-driver settings from env names that follow the key path", () => {
    const c = loadConfig({
      env: {
        PROTODEPOT_STORAGE_META_DRIVER: "postgres",
        PROTODEPOT_STORAGE_META_POSTGRES_URL: "postgres://u@127.0.0.1:5432/d",
        PROTODEPOT_STORAGE_META_POSTGRES_POOL_SIZE: "3",
        PROTODEPOT_STORAGE_BLOB_DRIVER: "s3",
        PROTODEPOT_STORAGE_BLOB_S3_ENDPOINT: "http://127.0.0.1:7480",
        // Digits stay text where the setting is text.
        PROTODEPOT_STORAGE_BLOB_S3_BUCKET: "123456",
        PROTODEPOT_STORAGE_BLOB_S3_ACCESS_KEY_ID: "0042",
        PROTODEPOT_STORAGE_BLOB_S3_SECRET_ACCESS_KEY: "true",
      },
    });
    assert.deepEqual(c.storage.meta.postgres, { url: "postgres://u@127.0.0.1:5432/d", poolSize: 3 });
    assert.equal(c.storage.blob.s3.bucket, "123456");
    assert.equal(c.storage.blob.s3.accessKeyId, "0042");
    assert.equal(c.storage.blob.s3.secretAccessKey, "true");
    assert.equal(c.storage.blob.s3.endpoint, "http://127.0.0.1:7480");
  });

  it("refuses a driver without its settings, listing every problem at once", () => {
    assert.throws(
      () =>
        loadConfig({
          env: {
            PROTODEPOT_STORAGE_META_DRIVER: "postgres",
            PROTODEPOT_STORAGE_BLOB_DRIVER: "s3",
            PROTODEPOT_STORAGE_BLOB_S3_ACCESS_KEY_ID: "key",
            PROTODEPOT_SERVER_PORT: "70000",
          },
        }),
      (err: Error) => {
        for (const problem of [
          /server\.port/,
          /storage\.meta\.postgres\.url: required when storage\.meta\.driver is postgres/,
          /storage\.blob\.s3\.bucket: required when storage\.blob\.driver is s3/,
          /storage\.blob\.s3\.secretAccessKey: set both/,
        ]) {
          assert.match(err.message, problem);
        }
        return true;
      },
    );
    assert.throws(
      () => loadConfig({ env: { PROTODEPOT_STORAGE_META_DRIVER: "mysql" } }),
      /storage\.meta\.driver/,
    );
  });
});

describe("examples/", () => {
  const example = (name: string) => new URL(`../../examples/${name}`, import.meta.url).pathname;

  it("config.yaml is valid and states the defaults", () => {
    assert.deepEqual(loadConfig({ file: example("config.yaml"), env: {} }), loadConfig({ env: {} }));
  });

  it("single-node.yaml runs on sqlite and files", () => {
    const c = loadConfig({ file: example("single-node.yaml"), env: {} });
    assert.equal(c.storage.meta.driver, "sqlite");
    assert.equal(c.storage.blob.driver, "fs");
  });

  it("cluster.yaml runs on postgres and s3 with every setting its drivers need", () => {
    const c = loadConfig({ file: example("cluster.yaml"), env: {} });
    assert.equal(c.storage.meta.driver, "postgres");
    assert.equal(c.storage.blob.driver, "s3");
    assert.ok(c.storage.meta.postgres.url);
    assert.ok(c.storage.blob.s3.bucket);
  });

  it("quarantines deleted public names forever and private ones for 30 days unless configured", () => {
    assert.deepEqual(loadConfig({ env: {} }).lifecycle, {
      quarantineDays: { public: "forever", private: 30 },
      refuseDeleteIfServedWithinDays: 0,
    });
    const c = loadConfig({
      env: {
        PROTODEPOT_LIFECYCLE_QUARANTINE_DAYS_PUBLIC: "365",
        PROTODEPOT_LIFECYCLE_QUARANTINE_DAYS_PRIVATE: "forever",
        PROTODEPOT_LIFECYCLE_REFUSE_DELETE_IF_SERVED_WITHIN_DAYS: "7",
      },
    });
    assert.deepEqual(c.lifecycle, {
      quarantineDays: { public: 365, private: "forever" },
      refuseDeleteIfServedWithinDays: 7,
    });
    assert.throws(() => loadConfig({ env: { PROTODEPOT_LIFECYCLE_QUARANTINE_DAYS_PRIVATE: "soon" } }));
  });
});
