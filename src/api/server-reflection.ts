// gRPC server reflection (grpc.reflection.v1 and v1alpha) over protodepot's own API, so `buf curl --list-methods`
// and grpcurl list and describe its services without a copy of the .proto files. Answers come from the
// descriptors compiled into the generated code: nothing a caller sends is parsed beyond a name.
import { createRegistry, type DescFile, type DescService, type Registry, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { ServerReflection as ReflectionV1 } from "../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ReflectionV1alpha } from "../gen/grpc/reflection/v1alpha/reflection_pb.js";

/** A reflection request of either version: the same fields and numbers. */
interface ReflectionRequest {
  host: string;
  messageRequest:
    | {
        case: "fileByFilename" | "fileContainingSymbol" | "allExtensionNumbersOfType" | "listServices";
        value: string;
      }
    | { case: "fileContainingExtension"; value: { containingType: string; extensionNumber: number } }
    | { case: undefined; value?: undefined };
}

type ReflectionAnswer =
  | { case: "fileDescriptorResponse"; value: { fileDescriptorProto: Uint8Array[] } }
  | { case: "allExtensionNumbersResponse"; value: { baseTypeName: string; extensionNumber: number[] } }
  | { case: "listServicesResponse"; value: { service: { name: string }[] } }
  | { case: "errorResponse"; value: { errorCode: number; errorMessage: string } };

// gRPC status codes reflection errors carry.
const notFound = 5;
const invalidArgument = 3;

/** Both versions of reflection over the given services (the reflection services themselves are added). */
export function createServerReflection(services: readonly DescService[]): {
  v1: ServiceImpl<typeof ReflectionV1>;
  v1alpha: ServiceImpl<typeof ReflectionV1alpha>;
} {
  const answer = createAnswerer([...services, ReflectionV1, ReflectionV1alpha]);
  return {
    v1: {
      async *serverReflectionInfo(requests) {
        for await (const req of requests) {
          yield { validHost: req.host, originalRequest: req, messageResponse: answer(req) };
        }
      },
    },
    v1alpha: {
      async *serverReflectionInfo(requests) {
        for await (const req of requests) {
          yield { validHost: req.host, originalRequest: req, messageResponse: answer(req) };
        }
      },
    },
  };
}

function createAnswerer(services: readonly DescService[]): (req: ReflectionRequest) => ReflectionAnswer {
  // Keyed by the file's path (DescFile.name drops the ".proto").
  const files = new Map<string, DescFile>();
  const add = (file: DescFile): void => {
    if (files.has(file.proto.name)) return;
    files.set(file.proto.name, file);
    for (const dep of file.dependencies) add(dep);
  };
  for (const s of services) add(s.file);
  const registry = createRegistry(...files.values());
  const encoded = new Map<string, Uint8Array>();
  const bytesOf = (file: DescFile): Uint8Array => {
    let bytes = encoded.get(file.name);
    if (!bytes) {
      bytes = toBinary(FileDescriptorProtoSchema, file.proto);
      encoded.set(file.name, bytes);
    }
    return bytes;
  };
  // The file asked for first, then everything it imports: a client needs the whole closure to use it.
  const withImports = (file: DescFile): ReflectionAnswer => {
    const closure = new Map<string, DescFile>();
    const visit = (f: DescFile): void => {
      if (closure.has(f.name)) return;
      closure.set(f.name, f);
      for (const dep of f.dependencies) visit(dep);
    };
    visit(file);
    return {
      case: "fileDescriptorResponse",
      value: { fileDescriptorProto: [...closure.values()].map(bytesOf) },
    };
  };
  const error = (code: number, message: string): ReflectionAnswer => ({
    case: "errorResponse",
    value: { errorCode: code, errorMessage: message },
  });
  const serviceNames = services.map((s) => ({ name: s.typeName }));

  return (req) => {
    const ask = req.messageRequest;
    switch (ask.case) {
      case "listServices":
        return { case: "listServicesResponse", value: { service: serviceNames } };
      case "fileByFilename": {
        const file = files.get(ask.value);
        return file ? withImports(file) : error(notFound, `no file ${ask.value.slice(0, 200)}`);
      }
      case "fileContainingSymbol": {
        const file = fileOfSymbol(registry, ask.value);
        return file ? withImports(file) : error(notFound, `no symbol ${ask.value.slice(0, 200)}`);
      }
      case "fileContainingExtension": {
        const { containingType, extensionNumber } = ask.value;
        const message = registry.getMessage(containingType);
        const ext = message && registry.getExtensionFor(message, extensionNumber);
        return ext
          ? withImports(ext.file)
          : error(notFound, `no extension ${extensionNumber} of ${containingType.slice(0, 200)}`);
      }
      case "allExtensionNumbersOfType": {
        const message = registry.getMessage(ask.value);
        if (!message) return error(notFound, `no message type ${ask.value.slice(0, 200)}`);
        const numbers: number[] = [];
        for (const d of registry) {
          if (d.kind === "extension" && d.extendee.typeName === message.typeName) numbers.push(d.number);
        }
        return {
          case: "allExtensionNumbersResponse",
          value: { baseTypeName: message.typeName, extensionNumber: numbers },
        };
      }
      default:
        return error(invalidArgument, "the request names no reflection question");
    }
  };
}

/** The file declaring a type, service, extension, or (one level below a service or message) a method or field. */
function fileOfSymbol(registry: Registry, symbol: string): DescFile | undefined {
  const found = registry.get(symbol);
  if (found) return found.file;
  const dot = symbol.lastIndexOf(".");
  if (dot <= 0) return undefined;
  const parent = registry.get(symbol.slice(0, dot));
  if (parent?.kind === "service" && parent.methods.some((m) => m.name === symbol.slice(dot + 1)))
    return parent.file;
  if (parent?.kind === "message" && parent.fields.some((f) => f.name === symbol.slice(dot + 1)))
    return parent.file;
  return undefined;
}
