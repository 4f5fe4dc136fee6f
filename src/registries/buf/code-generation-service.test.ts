// GenerateCode's wire request, through a real Connect client and router, reaches the service as buf meant it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { createClient, createRouterTransport } from "@connectrpc/connect";
import { errorInterceptor } from "../../api/errors.js";
import { ImageFileSchema } from "../../gen/buf/alpha/image/v1/image_pb.js";
import { CodeGenerationService } from "../../gen/buf/alpha/registry/v1alpha1/plugin_curation_pb.js";
import { PluginResponseSchema } from "../../gen/protodepot/plugin/v1/response_pb.js";
import type { RemoteGeneration, RemotePluginService } from "../../services/remote-plugins.js";
import { createCodeGenerationService } from "./code-generation-service.js";

test("GenerateCode passes the image's files, import marks and each request's flags to the service", async () => {
  const seen: RemoteGeneration[] = [];
  const remote: RemotePluginService = {
    async generateCode(_principal, input) {
      seen.push(input);
      return input.requests.map((r) =>
        create(PluginResponseSchema, {
          file: [{ name: `${r.name}.txt`, content: new TextEncoder().encode(r.options.join(",")) }],
        }),
      );
    },
  };
  const client = createClient(
    CodeGenerationService,
    createRouterTransport(
      ({ service }) => service(CodeGenerationService, createCodeGenerationService(remote)),
      { router: { interceptors: [errorInterceptor] } },
    ),
  );
  const dep = create(FileDescriptorProtoSchema, { name: "dep.proto", package: "dep", syntax: "proto3" });
  const main = create(FileDescriptorProtoSchema, {
    name: "main.proto",
    dependency: ["dep.proto"],
    syntax: "proto3",
  });
  // What buf sends: the descriptor's own fields and its field 8042; our ImageFile declares only the latter.
  const imageFile = (proto: typeof dep, isImport: boolean) => {
    const bytes = toBinary(FileDescriptorProtoSchema, proto);
    const mark = toBinary(ImageFileSchema, create(ImageFileSchema, { bufExtension: { isImport } }));
    return Uint8Array.from([...bytes, ...mark]);
  };
  // The client sends them on as the unknown fields they decoded to.
  const res = await client.generateCode({
    image: { file: [dep, main].map((f, i) => fromBinary(ImageFileSchema, imageFile(f, i === 0))) },
    includeImports: true,
    requests: [
      { pluginReference: { owner: "acme", name: "a", version: "v1.0.0" }, options: ["x=1", "y"] },
      { pluginReference: { owner: "acme", name: "b" }, includeImports: false, includeWellKnownTypes: true },
    ],
  });
  assert.deepEqual(
    res.responses.map((r) => r.response?.file[0]?.name),
    ["a.txt", "b.txt"],
  );
  const [input] = seen;
  assert.ok(input);
  assert.deepEqual(
    input.files.map((f) => {
      const proto = fromBinary(FileDescriptorProtoSchema, f.bytes);
      return [proto.name, proto.dependency, f.isImport, proto.$unknown ?? []];
    }),
    [
      ["dep.proto", [], true, []],
      ["main.proto", ["dep.proto"], false, []],
    ],
  );
  assert.deepEqual(
    input.requests.map(
      ({ owner, name, version, revision, options, includeImports, includeWellKnownTypes }) => ({
        ref: `${owner}/${name}:${version}#${revision}`,
        options,
        includeImports,
        includeWellKnownTypes,
      }),
    ),
    [
      // A request without its own flags takes the call's (older clients set only those).
      { ref: "acme/a:v1.0.0#0", options: ["x=1", "y"], includeImports: true, includeWellKnownTypes: false },
      { ref: "acme/b:#0", options: [], includeImports: false, includeWellKnownTypes: true },
    ],
  );
  await assert.rejects(client.generateCode({ requests: [{ options: [] }] }), /request 0 names no plugin/);
});
