// Plugin version rules over the real SQLite store: who may register which source, and runtime library checks.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Code, isRegistryError } from "../core/errors.js";
import type { MetadataStore } from "../storage/meta/metadata-store.js";
import { createSqliteMetadataStore } from "../storage/meta/sqlite/sqlite-metadata-store.js";
import { createAccessPolicy } from "./access.js";
import type { Principal } from "./auth.js";
import { createPluginService, type PluginService } from "./plugins.js";

const fails = (code: Code, message: RegExp) => (err: unknown) => {
  assert.ok(isRegistryError(err, code), String(err));
  assert.match(err.message, message);
  return true;
};

describe("plugin service: protoc generators and runtime libraries", () => {
  let dir: string;
  let meta: MetadataStore;
  let writer: Principal;
  let plugins: PluginService;
  const protoc = { path: "/usr/bin/protoc", version: "3.21.12" };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "protodepot-plugins-"));
    meta = await createSqliteMetadataStore({ path: join(dir, "meta.sqlite") });
    const admin = await meta.createUser({ name: "admin", isAdmin: true });
    const user = await meta.createUser({ name: "alice", isAdmin: false });
    writer = { user };
    const org = await meta.createOrganization({ name: "acme", ownerUserId: admin.id });
    await meta.setMember(org.id, user.id, "writer");
    const access = createAccessPolicy(meta, { anonymousRead: true });
    plugins = createPluginService(meta, { access, defaultVisibility: "public", protoc });
    await plugins.createPlugin({ user: admin }, "acme/python");
  });
  after(async () => {
    await meta.close();
    await rm(dir, { recursive: true, force: true });
  });

  const version = (v: string, extra: Partial<Parameters<typeof plugins.createPluginVersion>[1]>) =>
    plugins.createPluginVersion(writer, {
      plugin: "acme/python",
      version: v,
      command: [],
      runtimeLibraries: {},
      registryOptions: {},
      ...extra,
    });

  it("a writer registers a protoc generator, pinned to the server's protoc version", async () => {
    const created = await version("v1.0.0", {
      protocGenerator: "python",
      runtimeLibraries: { python: [{ package: "protobuf", version: ">=3.20" }] },
    });
    assert.deepEqual(created.source, { kind: "protoc", generator: "python", version: "3.21.12" });
    const stored = await meta.getPluginVersion("acme", "python", "v1.0.0");
    assert.deepEqual(stored?.source, created.source);
    assert.deepEqual(stored?.runtimeLibraries, { python: [{ package: "protobuf", version: ">=3.20" }] });
  });

  it("host commands stay admin-only, and one version has one source", async () => {
    await assert.rejects(
      version("v1.0.1", { command: ["/usr/bin/protoc"] }),
      fails(Code.PermissionDenied, /host-command/),
    );
    await assert.rejects(
      version("v1.0.2", { command: ["/usr/bin/protoc"], protocGenerator: "python" }),
      fails(Code.InvalidArgument, /either a host command or a protoc generator/),
    );
  });

  it("unknown generators and a server without protoc are refused with what to do", async () => {
    await assert.rejects(
      version("v1.0.3", { protocGenerator: "go" }),
      fails(Code.InvalidArgument, /"go" is not one of protoc's built-in generators \(cpp, csharp, java/),
    );
    const access = createAccessPolicy(meta, { anonymousRead: true });
    const without = createPluginService(meta, { access, defaultVisibility: "public" });
    await assert.rejects(
      without.createPluginVersion(writer, {
        plugin: "acme/python",
        version: "v1.0.4",
        command: [],
        protocGenerator: "python",
        runtimeLibraries: {},
        registryOptions: {},
      }),
      fails(Code.FailedPrecondition, /apt-get install protobuf-compiler/),
    );
  });

  it("checks python specifiers and maven coordinates", async () => {
    await assert.rejects(
      version("v1.0.5", {
        protocGenerator: "python",
        runtimeLibraries: { python: [{ package: "protobuf", version: "4.21" }] },
      }),
      fails(Code.InvalidArgument, /PEP 440 specifier/),
    );
    await assert.rejects(
      version("v1.0.6", {
        protocGenerator: "java",
        runtimeLibraries: { maven: [{ groupId: "com.google.protobuf", artifactId: "", version: "3.21.12" }] },
      }),
      fails(Code.InvalidArgument, /invalid Maven runtime library .*GROUP:ARTIFACT/),
    );
    await assert.rejects(
      version("v1.0.8", {
        protocGenerator: "java",
        runtimeLibraries: {
          go: [{ module: "example.com/x v1.0.0\ngo 1.99\nreplace example.com/x", version: "v1.0.0" }],
        },
      }),
      fails(
        Code.InvalidArgument,
        /invalid Go runtime library .*its name path element .* may only use letters/,
      ),
    );
    await assert.rejects(
      version("v1.0.9", {
        protocGenerator: "java",
        runtimeLibraries: { npm: [{ package: "left-pad", version: "file:../../etc" }] },
      }),
      fails(Code.InvalidArgument, /invalid npm runtime library .*its version must be a semver/),
    );
    const ok = await version("v1.0.7", {
      protocGenerator: "java",
      runtimeLibraries: {
        maven: [{ groupId: "com.google.protobuf", artifactId: "protobuf-java", version: "3.21.12" }],
      },
    });
    assert.equal(ok.runtimeLibraries.maven?.[0]?.artifactId, "protobuf-java");
  });
});
