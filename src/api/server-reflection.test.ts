import assert from "node:assert/strict";
import { test } from "node:test";
import { create, createFileRegistry, fromBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { createHandlerContext } from "@connectrpc/connect";
import {
  ServerReflection,
  type ServerReflectionRequest,
  ServerReflectionRequestSchema,
} from "../gen/grpc/reflection/v1/reflection_pb.js";
import { ModuleService } from "../gen/protodepot/v1/module_pb.js";
import { ServerService } from "../gen/protodepot/v1/server_pb.js";
import { createServerReflection } from "./server-reflection.js";

/** Asks v1 reflection the questions in order on one stream; the answers in the same order. */
async function ask(...questions: MessageInitShape<typeof ServerReflectionRequestSchema>[]) {
  const { v1 } = createServerReflection([ServerService, ModuleService]);
  const method = ServerReflection.method.serverReflectionInfo;
  const ctx = createHandlerContext({
    service: ServerReflection,
    method,
    protocolName: "grpc",
    requestMethod: "POST",
    url: "http://localhost/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
  });
  async function* requests(): AsyncIterable<ServerReflectionRequest> {
    for (const q of questions) yield create(ServerReflectionRequestSchema, q);
  }
  const answers = [];
  for await (const a of v1.serverReflectionInfo(requests(), ctx)) answers.push(a.messageResponse);
  return answers;
}

test("lists the services it was given and the reflection services themselves", async () => {
  const [list] = await ask({ messageRequest: { case: "listServices", value: "" } });
  assert.equal(list?.case, "listServicesResponse");
  assert.deepEqual(
    list.value.service?.map((s) => s.name),
    [
      "protodepot.v1.ServerService",
      "protodepot.v1.ModuleService",
      "grpc.reflection.v1.ServerReflection",
      "grpc.reflection.v1alpha.ServerReflection",
    ],
  );
});

test("a symbol (a service, a method, a message) answers its file first, then every file it imports", async () => {
  const answers = await ask(
    { messageRequest: { case: "fileContainingSymbol", value: "protodepot.v1.ModuleService.Push" } },
    { messageRequest: { case: "fileContainingSymbol", value: "protodepot.v1.GetServerInfoResponse" } },
    { messageRequest: { case: "fileByFilename", value: "protodepot/v1/server.proto" } },
  );
  const files = answers.map((a) => {
    assert.equal(a?.case, "fileDescriptorResponse");
    return a.value.fileDescriptorProto?.map((b) => fromBinary(FileDescriptorProtoSchema, b)) ?? [];
  });
  assert.equal(files[0]?.[0]?.name, "protodepot/v1/module.proto");
  assert.equal(files[1]?.[0]?.name, "protodepot/v1/server.proto");
  assert.deepEqual(files[2], files[1]);
  // The closure is complete: a client can build the service from it alone.
  const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: files[0] }));
  assert.ok(registry.getService("protodepot.v1.ModuleService"));
});

test("what it does not know is a NOT_FOUND error answer, and the stream goes on", async () => {
  const answers = await ask(
    { messageRequest: { case: "fileContainingSymbol", value: "acme.v1.Nope" } },
    { messageRequest: { case: "fileByFilename", value: "nope.proto" } },
    { messageRequest: { case: "allExtensionNumbersOfType", value: "acme.v1.Nope" } },
    { messageRequest: { case: undefined } },
    { messageRequest: { case: "listServices", value: "" } },
  );
  assert.deepEqual(
    answers.map((a) => (a?.case === "errorResponse" ? a.value.errorCode : a?.case)),
    [5, 5, 5, 3, "listServicesResponse"],
  );
});
