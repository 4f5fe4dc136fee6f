// buf's remote plugins over the real SQLite store and the real sandboxed runtime: which version runs, who may
// run it, what is bounded, and what comes back.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, isRegistryError } from "../core/errors.js";
import type { ImageFile } from "../generate/image-request.js";
import { fixturePlugins, testLimits, testRuntime } from "../generate/testing/examples.js";
import { ANONYMOUS, createFairScheduler, type FairScheduler } from "../generate/wrappers.js";
import { isBwrapAvailable } from "../plugins/sandbox/bwrap.js";
import type { MetadataStore } from "../storage/meta/metadata-store.js";
import { createSqliteMetadataStore } from "../storage/meta/sqlite/sqlite-metadata-store.js";
import { createAccessPolicy } from "./access.js";
import { anonymous, type Principal } from "./auth.js";
import { createPayers } from "./payers.js";
import { createPluginService } from "./plugins.js";
import {
  createRemotePluginService,
  type RemotePluginRequest,
  type RemotePluginService,
} from "./remote-plugins.js";

const fails = (code: Code, message: RegExp) => (err: unknown) => {
  assert.ok(isRegistryError(err, code), String(err));
  assert.match(err.message, message);
  return true;
};

const descriptor = (init: MessageInitShape<typeof FileDescriptorProtoSchema>) =>
  toBinary(FileDescriptorProtoSchema, create(FileDescriptorProtoSchema, init));

const image: ImageFile[] = [
  { bytes: descriptor({ name: "dep.proto", syntax: "proto3" }), isImport: true },
  {
    bytes: descriptor({
      name: "p.proto",
      syntax: "proto3",
      dependency: ["dep.proto"],
    }),
    isImport: false,
  },
];

/** echo.mjs answers with the response its parameter spells out, naming which version ran. */
const request = (plugin: string, version: string, response: object, revision = 0): RemotePluginRequest => {
  const [owner = "", name = ""] = plugin.split("/");
  return {
    owner,
    name,
    version,
    revision,
    options: [JSON.stringify(response)],
    includeImports: false,
    includeWellKnownTypes: false,
  };
};
const file = (name: string, content = "x") => ({ supportedFeatures: "1", file: [{ name, content }] });

describe("remote plugin service", {
  skip: !isBwrapAvailable() && !process.env.CI && "bwrap is not installed",
}, () => {
  let dir: string;
  let meta: MetadataStore;
  let admin: Principal;
  let stranger: Principal;
  const scheduler = createFairScheduler({ slots: 1, perOwner: 1 });
  let remote: RemotePluginService;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "protodepot-remote-"));
    meta = await createSqliteMetadataStore({ path: join(dir, "meta.sqlite") });
    admin = { user: await meta.createUser({ name: "admin", isAdmin: true }) };
    stranger = { user: await meta.createUser({ name: "eve", isAdmin: false }) };
    await meta.createOrganization({ name: "acme", ownerUserId: admin.user?.id ?? "" });
    const access = createAccessPolicy(meta, { anonymousRead: true });
    const plugins = createPluginService(meta, { access, defaultVisibility: "public" });
    const command = [join(fixturePlugins, "echo.mjs")];
    await plugins.createPlugin(admin, "acme/echo", "public");
    await plugins.createPlugin(admin, "acme/secret", "private");
    // Registered out of semver order: the newest is v1.10.0, not the last registered.
    for (const version of ["v1.10.0", "v1.2.0", "v1.0.0-2"]) {
      await plugins.createPluginVersion(admin, {
        plugin: "acme/echo",
        version,
        command,
        runtimeLibraries: {},
        registryOptions: {},
      });
    }
    await plugins.createPluginVersion(admin, {
      plugin: "acme/secret",
      version: "v1.0.0",
      command,
      runtimeLibraries: {},
      registryOptions: {},
    });
    remote = createRemotePluginService({
      plugins,
      runtime: testRuntime,
      scheduler,
      output: { maxFiles: 3, maxOutputBytes: testLimits.maxOutputBytes },
      maxImageFiles: 2,
      maxRequests: 3,
    });
  });
  after(async () => {
    await meta.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("answers each request in order; an empty version runs the newest, a revision its -N version", async () => {
    const responses = await remote.generateCode(stranger, {
      files: image,
      requests: [
        request("acme/echo", "", file("newest.txt")),
        request("acme/echo", "v1.2.0", file("pinned.txt")),
        request("acme/echo", "v1.0.0", file("revision.txt"), 2),
      ],
    });
    assert.deepEqual(
      responses.map((r) => r.file.map((f) => f.name)),
      [["newest.txt"], ["pinned.txt"], ["revision.txt"]],
    );
    await assert.rejects(
      remote.generateCode(stranger, { files: image, requests: [request("acme/echo", "v9.0.0", file("x"))] }),
      fails(Code.NotFound, /plugin acme\/echo has no version v9.0.0 \(versions: v1.10.0, v1.2.0, v1.0.0-2\)/),
    );
  });

  it("hides a private plugin exactly like a missing one", async () => {
    const ok = await remote.generateCode(admin, {
      files: image,
      requests: [request("acme/secret", "", file("s.txt"))],
    });
    assert.equal(new TextDecoder().decode(ok[0]?.file[0]?.content), "x");
    const hidden = await remote
      .generateCode(stranger, { files: image, requests: [request("acme/secret", "", file("s.txt"))] })
      .catch((err: unknown) => err);
    const missing = await remote
      .generateCode(stranger, { files: image, requests: [request("acme/nope", "", file("s.txt"))] })
      .catch((err: unknown) => err);
    assert.ok(isRegistryError(hidden, Code.NotFound) && isRegistryError(missing, Code.NotFound));
    assert.equal(hidden.message.replace("secret", "nope"), missing.message);
  });

  it("checks output like every plugin's and names the plugin that failed", async () => {
    await assert.rejects(
      remote.generateCode(admin, {
        files: image,
        requests: [request("acme/echo", "v1.2.0", { error: "p.proto: bad option" })],
      }),
      fails(Code.Unprocessable, /plugin acme\/echo:v1.2.0 failed: p.proto: bad option/),
    );
    await assert.rejects(
      remote.generateCode(admin, { files: image, requests: [request("acme/echo", "", file("../out.txt"))] }),
      fails(Code.Unprocessable, /acme\/echo:v1.10.0 generated file "..\/out.txt": path contains ".."/),
    );
    // A file to generate with a proto3 optional field needs a plugin that says it supports them.
    const optional: ImageFile = {
      bytes: descriptor({
        name: "o.proto",
        syntax: "proto3",
        messageType: [{ name: "M", field: [{ name: "a", number: 1, proto3Optional: true }] }],
      }),
      isImport: false,
    };
    await assert.rejects(
      remote.generateCode(admin, { files: [optional], requests: [request("acme/echo", "", { file: [] })] }),
      fails(
        Code.Unprocessable,
        /o.proto: is a proto3 file that contains optional fields, but plugin acme\/echo/,
      ),
    );
    // maxFiles 3 counts every response of the call together.
    const two = { supportedFeatures: "1", file: [{ name: "a" }, { name: "b" }] };
    await assert.rejects(
      remote.generateCode(admin, {
        files: image,
        requests: [request("acme/echo", "", two), request("acme/echo", "v1.2.0", two)],
      }),
      fails(Code.Unprocessable, /plugin acme\/echo:v1.2.0 generated more than 3 files/),
    );
  });

  it("bounds the work of one call and runs it in one plugin-run slot", async () => {
    const one = request("acme/echo", "", file("x"));
    await assert.rejects(
      remote.generateCode(admin, { files: image, requests: [] }),
      fails(Code.InvalidArgument, /at least one plugin/),
    );
    await assert.rejects(
      remote.generateCode(admin, { files: image, requests: [one, one, one, one] }),
      fails(Code.ResourceExhausted, /4 plugins in one call; at most 3/),
    );
    await assert.rejects(
      remote.generateCode(admin, { files: [...image, ...image], requests: [one] }),
      fails(Code.ResourceExhausted, /the image has 4 files; at most 2/),
    );
    await assert.rejects(
      remote.generateCode(admin, { files: [...image].reverse(), requests: [one] }),
      fails(Code.InvalidArgument, /not in dependency order: p.proto imports dep.proto/),
    );
    // The only slot is busy: the call waits for it, then runs.
    let release: () => void = () => {};
    const busy = scheduler.run("someone", () => new Promise<void>((r) => (release = r)));
    let finished = false;
    const call = remote.generateCode(admin, { files: image, requests: [one] }).then((r) => {
      finished = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(finished, false, "ran without a slot");
    release();
    await busy;
    assert.equal((await call).length, 1);
  });

  it("charges a call to its caller and the accounts of its plugins' owners", async () => {
    const charged: (string | readonly string[])[] = [];
    const recording: FairScheduler = {
      run: (payers, task) => {
        charged.push(payers);
        return task();
      },
    };
    const charging = createRemotePluginService({
      plugins: createPluginService(meta, {
        access: createAccessPolicy(meta, { anonymousRead: true }),
        defaultVisibility: "public",
      }),
      runtime: testRuntime,
      scheduler: recording,
      output: { maxFiles: 3, maxOutputBytes: testLimits.maxOutputBytes },
      maxImageFiles: 2,
      maxRequests: 3,
      payers: createPayers(meta),
    });
    const one = { files: image, requests: [request("acme/echo", "", file("x"))] };
    // acme is run by the admin alone: its plugins charge nobody, the caller pays.
    await charging.generateCode(stranger, one);
    await charging.generateCode(anonymous, one);
    // Made an owner of acme, eve pays for its plugins whoever calls them (the last test: it changes acme).
    const acme = await meta.getOrganization("acme");
    await meta.setMember(acme?.id ?? "", stranger.user?.id ?? "", "owner");
    await charging.generateCode(anonymous, one);
    assert.deepEqual(charged, [["eve"], [ANONYMOUS], [ANONYMOUS, "eve"]]);
  });
});
