// Who may manage webhooks: an organization's owners theirs, admins also the server-wide ones; others see nothing.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Code, isRegistryError } from "../core/errors.js";
import type { User } from "../core/types.js";
import type { MetadataStore } from "../storage/meta/metadata-store.js";
import { createSqliteMetadataStore } from "../storage/meta/sqlite/sqlite-metadata-store.js";
import { createAccessPolicy } from "./access.js";
import type { Principal } from "./auth.js";
import { createEvents } from "./events.js";
import { createTargetPolicy } from "./webhooks/targets.js";
import { createWebhookService, type WebhookService } from "./webhooks.js";

describe("webhook service", () => {
  let dir: string;
  let meta: MetadataStore;
  let service: WebhookService;
  const users: Record<string, User> = {};
  const as = (name: string, extra: Partial<Principal> = {}): Principal => {
    const user = users[name];
    assert.ok(user);
    return { user, tokenId: `t-${name}`, ...extra };
  };
  const is = (code: Code) => (err: unknown) => isRegistryError(err, code);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "protodepot-webhooks-"));
    meta = await createSqliteMetadataStore({ path: join(dir, "m.sqlite") });
    for (const name of ["root", "olivia", "walt"])
      users[name] = await meta.createUser({ name, isAdmin: name === "root" });
    const acme = await meta.createOrganization({ name: "acme", ownerUserId: users.olivia?.id ?? "" });
    await meta.setMember(acme.id, users.walt?.id ?? "", "writer");
    service = createWebhookService({
      store: meta,
      access: createAccessPolicy(meta, { anonymousRead: true }),
      targets: createTargetPolicy({ allowPrivateTargets: true, allowedTargets: [] }),
    });
  });
  after(async () => {
    await meta.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("lets an organization's owner subscribe, shows the secret once, and lists without it", async () => {
    const { webhook, secret } = await service.create(as("olivia"), {
      owner: "acme",
      url: "http://127.0.0.1:9/hook",
      events: ["commit.pushed", "label.moved"],
    });
    assert.match(secret, /^whsec_[0-9a-f]{48}$/);
    const listed = await service.list(as("olivia"), "acme");
    assert.deepEqual(listed, [webhook]);
    assert.equal(JSON.stringify(listed).includes(secret), false);
  });

  it("refuses writers, scoped tokens, anonymous callers and unknown kinds; server-wide is for admins", async () => {
    const input = { owner: "acme", url: "http://127.0.0.1:9/", events: [] };
    await assert.rejects(service.create(as("walt"), input), is(Code.PermissionDenied));
    await assert.rejects(
      service.create(as("olivia", { scopes: ["write:acme"] }), input),
      is(Code.PermissionDenied),
    );
    await assert.rejects(service.create({}, input), is(Code.Unauthenticated));
    await assert.rejects(
      service.create(as("olivia"), { ...input, events: ["commit.pushed", "nope"] }),
      (err: unknown) =>
        isRegistryError(err, Code.InvalidArgument) && /commit\.pushed, label\.moved/.test(err.message),
    );
    await assert.rejects(
      service.create(as("olivia"), { url: input.url, events: [] }),
      is(Code.PermissionDenied),
    );
    const { webhook } = await service.create(as("root"), { url: input.url, events: ["*"] });
    assert.equal(webhook.owner, undefined);
    assert.deepEqual(
      (await service.list(as("root"))).map((w) => w.id),
      [webhook.id],
    );
  });

  it("answers a subscription the caller may not manage as missing; its owner lists, redelivers and deletes", async () => {
    const [hook] = await service.list(as("olivia"), "acme");
    assert.ok(hook);
    await assert.rejects(service.deliveries(as("walt"), hook.id), is(Code.NotFound));
    await assert.rejects(service.delete(as("walt"), hook.id), is(Code.NotFound));
    const events = createEvents({ store: meta, log: { error() {} } });
    await events.emit("commit.pushed", { owner: "acme", target: "acme/app", data: { seq: 1 } });
    const [d] = await service.deliveries(as("olivia"), hook.id);
    assert.equal(d?.kind, "commit.pushed");
    assert.deepEqual(JSON.parse(d?.body ?? "{}").data, { seq: 1 });
    await assert.rejects(service.redeliver(as("walt"), d?.id ?? ""), is(Code.NotFound));
    const again = await service.redeliver(as("olivia"), d?.id ?? "");
    assert.equal(again.eventId, d?.eventId);
    await service.delete(as("olivia"), hook.id);
    await assert.rejects(service.deliveries(as("olivia"), hook.id), is(Code.NotFound));
  });

  it("rotates a secret for those who manage the subscription, audited; the old one signs during the grace", async () => {
    const recorded: { action: string; target: string; owner?: string; after?: unknown }[] = [];
    const audited = createWebhookService({
      store: meta,
      access: createAccessPolicy(meta, { anonymousRead: true }),
      targets: createTargetPolicy({ allowPrivateTargets: true, allowedTargets: [] }),
      audit: { record: async (_p, change) => void recorded.push(change) },
    });
    const { webhook, secret: first } = await audited.create(as("olivia"), {
      owner: "acme",
      url: "http://127.0.0.1:9/rotate",
      events: [],
    });
    await assert.rejects(audited.rotateSecret(as("walt"), webhook.id), is(Code.NotFound));
    await assert.rejects(
      audited.rotateSecret(as("olivia", { scopes: ["write:acme"] }), webhook.id),
      is(Code.NotFound),
    );
    await assert.rejects(audited.rotateSecret(as("olivia"), webhook.id, -1), is(Code.InvalidArgument));
    await assert.rejects(
      audited.rotateSecret(as("olivia"), webhook.id, 31 * 86_400),
      is(Code.InvalidArgument),
    );
    const { webhook: rotated, secret } = await audited.rotateSecret(as("olivia"), webhook.id);
    assert.match(secret, /^whsec_[0-9a-f]{48}$/);
    assert.notEqual(secret, first);
    const until = Date.parse(rotated.previousSecretUntil ?? "");
    const rotatedAt = Date.parse(rotated.secretRotatedAt ?? "");
    assert.ok(Math.abs(until - rotatedAt - 86_400_000) < 60_000, "a day's grace by default");
    assert.deepEqual(recorded.at(-1), {
      action: "webhook.secret.rotate",
      target: `webhook ${webhook.id}`,
      owner: "acme",
      after: { graceSeconds: 86_400, previousSecretUntil: rotated.previousSecretUntil },
    });
    const events = createEvents({ store: meta, log: { error() {} } });
    await events.emit("commit.pushed", { owner: "acme", target: "acme/app", data: {} });
    const claimed = (await meta.claimWebhookDeliveries("n", 10, 60_000)).find(
      (d) => d.webhookId === webhook.id,
    );
    assert.deepEqual([claimed?.secret, claimed?.previousSecret], [secret, first]);
    // An admin may rotate any subscription; no grace: the old secret stops at once.
    const { secret: third, webhook: now } = await audited.rotateSecret(as("root"), webhook.id, 0);
    assert.equal(now.previousSecretUntil, undefined);
    await events.emit("commit.pushed", { owner: "acme", target: "acme/app", data: {} });
    const next = (await meta.claimWebhookDeliveries("n", 10, 60_000)).find((d) => d.webhookId === webhook.id);
    assert.deepEqual([next?.secret, next?.previousSecret], [third, undefined]);
    assert.equal(recorded.length, 3);
  });
});
