// HEAD and GET /v2/{owner}/{name}/blobs/{digest}, with a single-range `Range: bytes=a-b` for GET.
import { Transform } from "node:stream";
import type { FastifyReply, FastifyRequest } from "fastify";
import { Code } from "../../core/errors.js";
import type { ImageService } from "../../services/images.js";
import { ociError } from "./errors.js";
import { callerOf, type RepoParams, repoOf } from "./request.js";

type Params = RepoParams & { digest: string };

const unknown = (digest: string) =>
  ociError(Code.NotFound, "BLOB_UNKNOWN", `blob ${digest} is not in this repository`);

export function createBlobHeadHandler(images: ImageService) {
  return async (request: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
    const { digest } = request.params;
    const blob = await images.statBlob(callerOf(request), repoOf(images, request), digest);
    if (!blob) throw unknown(digest);
    return reply
      .header("content-length", blob.size)
      .header("docker-content-digest", blob.digest)
      .type("application/octet-stream")
      .send();
  };
}

/** `bytes=a-b`, `bytes=a-` or `bytes=-n` within `size`; undefined when absent or unsatisfiable. */
function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | "bad" | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return "bad";
  let start: number;
  let end: number;
  if (m[1] === "") {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  return start > end || start >= size ? "bad" : { start, end };
}

/** Passes bytes [start, end] of the stream through and drops the rest. */
function slice(start: number, end: number): Transform {
  let position = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      const from = Math.max(0, start - position);
      const to = Math.min(chunk.length, end + 1 - position);
      position += chunk.length;
      cb(null, from < to ? chunk.subarray(from, to) : undefined);
    },
  });
}

export function createBlobGetHandler(images: ImageService) {
  return async (request: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
    const { digest } = request.params;
    const ac = new AbortController();
    request.raw.once("close", () => ac.abort());
    const blob = await images.openBlob(callerOf(request), repoOf(images, request), digest, ac.signal);
    if (!blob) throw unknown(digest);
    reply
      .header("docker-content-digest", blob.digest)
      .header("accept-ranges", "bytes")
      .type("application/octet-stream");
    const range = parseRange(request.headers.range, blob.size);
    if (range === "bad") {
      blob.stream.destroy();
      return reply.code(416).header("content-range", `bytes */${blob.size}`).send();
    }
    if (range) {
      return reply
        .code(206)
        .header("content-range", `bytes ${range.start}-${range.end}/${blob.size}`)
        .header("content-length", range.end - range.start + 1)
        .send(blob.stream.pipe(slice(range.start, range.end)));
    }
    return reply.header("content-length", blob.size).send(blob.stream);
  };
}
