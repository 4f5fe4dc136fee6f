// GET /{owner}/{module}/descriptor/{ref}: the module's schema at a label or commit as a binary FileDescriptorSet,
// ready for protoc --descriptor_set_in, buf's image inputs, or any runtime's dynamic messages.
import type { FastifyReply, FastifyRequest } from "fastify";
import { invalidArgument } from "../../core/errors.js";
import { parseFullName } from "../../core/names.js";
import { immutableFor } from "../../http/cache-control.js";
import { keepHot } from "../../http/hot-responses.js";
import type { DescriptorsProtocol } from "./protocol.js";

export interface DescriptorParams {
  owner: string;
  module: string;
  ref: string;
}

export interface DescriptorQuery {
  imports?: string;
  source_info?: string;
}

/**
 * `?imports=` (default true: the set is self-contained, as a runtime needs it) and `?source_info=` (default false:
 * comments are most of the bytes and no decoder needs them).
 */
function flag(query: DescriptorQuery, key: keyof DescriptorQuery, fallback: boolean): boolean {
  const value: unknown = query[key];
  if (value === undefined || value === "") return fallback;
  if (typeof value !== "string") throw invalidArgument(`?${key}= given more than once`);
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw invalidArgument(`?${key}=${value.slice(0, 50)}: expected true or false`);
}

export function createDescriptorHandler(protocol: DescriptorsProtocol) {
  return async (
    request: FastifyRequest<{ Params: DescriptorParams; Querystring: DescriptorQuery }>,
    reply: FastifyReply,
  ) => {
    keepHot(reply);
    const { owner, module, ref } = request.params;
    const name = parseFullName("module", `${owner}/${module}`);
    const imports = flag(request.query, "imports", true);
    const sourceInfo = flag(request.query, "source_info", false);
    const { commit, bytes } = await protocol.descriptorSet(request.principal, name, {
      ref,
      imports,
      sourceInfo,
    });
    return reply
      .header("content-type", "application/x-protobuf")
      .header("content-disposition", `attachment; filename="${owner}-${module}-${commit.id}.binpb"`)
      .header("x-protodepot-commit", commit.id)
      .header("x-protodepot-commit-seq", String(commit.seq))
      .header("cache-control", ref === commit.id ? immutableFor(request.principal) : "no-cache")
      .send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  };
}
