// The pip, Maven and Yarn files `protodepot login` edits: only this server's part changes, a rerun changes nothing.
import assert from "node:assert/strict";
import { test } from "node:test";
import { mavenSettingsFor, upsertMavenSettings } from "./maven-settings.js";
import { pipIndexUrl, upsertPipConf } from "./pip-conf.js";
import { upsertYarnrc } from "./yarnrc.js";

test("pip.conf: our extra index replaces our own, keeps another, and leaves other lines alone", () => {
  const ours = pipIndexUrl("http://127.0.0.1:8080", "pd_a");
  assert.equal(ours, "http://__token__:pd_a@127.0.0.1:8080/pypi/simple/");
  const text = "[global]\ntimeout = 5\nextra-index-url = https://other.example/simple/\n[install]\nx = 1\n";
  const once = upsertPipConf(text, ours);
  assert.equal(
    once,
    `[global]\ntimeout = 5\nextra-index-url = https://other.example/simple/ ${ours}\n[install]\nx = 1\n`,
  );
  const again = upsertPipConf(once, pipIndexUrl("http://127.0.0.1:8080", "pd_b"));
  assert.match(again, /^extra-index-url = https:\/\/other\.example\/simple\/ http:\/\/__token__:pd_b@/m);
  assert.equal(upsertPipConf(again, pipIndexUrl("http://127.0.0.1:8080", "pd_b")), again);
  assert.equal(upsertPipConf("", ours), `[global]\nextra-index-url = ${ours}\n`);
});

test("settings.xml: ours is written and rewritten; a settings.xml of the user's own is left alone", () => {
  const settings = mavenSettingsFor("https://registry.example.com", "alice", "pd_a");
  const written = upsertMavenSettings("", settings);
  assert.ok(written);
  assert.match(written, /<password>pd_a<\/password>/);
  assert.match(written, /<activeProfile>protodepot-registry\.example\.com<\/activeProfile>/);
  assert.match(written, /<url>https:\/\/registry\.example\.com\/maven\/<\/url>/);
  const rotated = upsertMavenSettings(written, { ...settings, token: "pd_b" });
  assert.equal(rotated, written.replace("pd_a", "pd_b"));
  assert.equal(upsertMavenSettings("<settings><servers/></settings>\n", settings), undefined);
});

test(".yarnrc.yml: the scope's registry and token, the age-gate exemption once, the user's keys kept", () => {
  const opts = { scope: "protodepot", registry: "http://127.0.0.1:8080/npm/", token: "pd_a" };
  const text = "# my settings\nnodeLinker: node-modules\nnpmPreapprovedPackages:\n  - react\n";
  const once = upsertYarnrc(text, opts);
  assert.match(once, /^# my settings\nnodeLinker: node-modules\n/);
  assert.match(
    once,
    /npmScopes:\n {2}protodepot:\n {4}npmRegistryServer: http:\/\/127\.0\.0\.1:8080\/npm\/\n {4}npmAuthToken: pd_a\n/,
  );
  assert.match(once, /npmPreapprovedPackages:\n {2}- react\n {2}- "@protodepot\/\*"\n/);
  assert.match(once, /unsafeHttpWhitelist:\n {2}- 127\.0\.0\.1\n/);
  assert.equal(upsertYarnrc(once, opts), once);
});
