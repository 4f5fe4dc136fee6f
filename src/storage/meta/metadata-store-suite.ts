// The contract every MetadataStore driver passes: `runMetadataStoreSuite("sqlite", …)`, `("postgres", …)`.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { ArtifactKey } from "../../core/types.js";
import { artifactsCases, preGenerationCases } from "./contract/artifacts.js";
import { deletionCases } from "./contract/deletion.js";
import { identitiesCases } from "./contract/identities.js";
import { labelsCases } from "./contract/labels.js";
import { leasesCases, transactionsAcrossStoresCases } from "./contract/leases.js";
import { moduleLifecycleCases, moduleLookupCases, pushCases } from "./contract/modules.js";
import { ownersAndOrganizationsCases } from "./contract/owners.js";
import { pluginsCases, templatesCases } from "./contract/plugins.js";
import { quotaCases } from "./contract/quotas.js";
import { hex, pushCommit, type Suite } from "./contract/support.js";
import { tokenLifecycleCases, tokenScopeBotAuditCases, usersAndTokensCases } from "./contract/users.js";
import { runWebhookStoreSuite } from "./contract/webhooks.js";
import type { MetadataStore } from "./metadata-store.js";

/** One empty database made by a driver for one test. */
export interface MetadataStoreHarness {
  store: MetadataStore;
  /** Opens another store over the same data, as a restarted server would; the suite closes the old one first. */
  reopen(): Promise<MetadataStore>;
  /** Closes every store the harness opened and removes the data. */
  cleanup(): Promise<void>;
}

export function runMetadataStoreSuite(driverName: string, make: () => Promise<MetadataStoreHarness>): void {
  describe(`MetadataStore contract: ${driverName}`, () => {
    let harness: MetadataStoreHarness;
    let store: MetadataStore;

    beforeEach(async () => {
      harness = await make();
      store = harness.store;
    });
    afterEach(async () => {
      await harness.cleanup();
    });

    const suite: Suite = {
      store: () => store,
      push: (owner, module, over) => pushCommit(store, owner, module, over),
    };
    const push = suite.push;

    runWebhookStoreSuite(() => store);
    usersAndTokensCases(suite);
    tokenLifecycleCases(suite);
    tokenScopeBotAuditCases(suite);
    ownersAndOrganizationsCases(suite);
    identitiesCases(suite);
    pushCases(suite);
    moduleLookupCases(suite);
    moduleLifecycleCases(suite);
    labelsCases(suite);
    pluginsCases(suite);
    templatesCases(suite);
    transactionsAcrossStoresCases(suite);
    leasesCases(suite);
    artifactsCases(suite);
    preGenerationCases(suite);
    deletionCases(suite);
    quotaCases(suite);

    it("keeps everything across close and reopen", async () => {
      const alice = await store.createUser({ name: "alice", isAdmin: true });
      const hash = hex(32);
      await store.createToken({ userId: alice.id, hash, note: "" });
      const c1 = await push("acme", "app", { files: [{ path: "a.proto", size: 5, sha256: hex(32) }] });
      await store.createPlugin({ owner: "bufbuild", name: "es", visibility: "public" });
      const t = await store.createTemplate({ owner: "acme", name: "ts", visibility: "public", plugins: [] });
      const tv = await store.createTemplateVersion(t.id, []);
      const key: ArtifactKey = {
        templateId: t.id,
        templateVersion: 1,
        commitId: c1.id,
        scope: "imports_wkt",
        flavour: "go",
      };
      const artifact = await store.putArtifact({ ...key, blob: "b", digest: "d", size: 7, extra: {} });

      await store.close();
      store = await harness.reopen();

      assert.deepEqual(await store.getUserByName("alice"), alice);
      assert.equal((await store.findToken(hash))?.user.id, alice.id);
      assert.deepEqual(await store.getCommit(c1.id), c1);
      assert.equal((await store.listCommitFiles(c1.id)).length, 1);
      assert.equal((await store.getLabel(c1.moduleId, "main"))?.commitId, c1.id);
      assert.ok(await store.getPlugin("bufbuild", "es"));
      assert.deepEqual(await store.getTemplateVersion(t.id, 1), tv);
      assert.deepEqual(await store.getArtifact(key), artifact);
      assert.equal((await push("acme", "app")).seq, 2);
      assert.equal((await store.createTemplateVersion(t.id, [])).number, 2);
    });
  });
}
