// The name or file at the end of a /gems/ path. Routes end in a wildcard, not a parameter: Fastify refuses a
// parameter over 100 characters (414), and a gem name alone may be 259, so the bound is ours and fits our names.
import type { FastifyRequest } from "fastify";
import { Code, RegistryError } from "../../core/errors.js";
import { maxGemNameLength } from "../../ecosystems/rubygems/names.js";

/** A gem name, `-`, a version of at most 24 characters (`1.{9 digits}.{12 digits}`) and `.gemspec.rz`. */
const maxSegmentLength = maxGemNameLength + 1 + 24 + ".gemspec.rz".length;

/** The route generic of a wildcard route. */
export type Segment = { Params: { "*": string } };
export type SegmentRequest = FastifyRequest<Segment>;

/** The path's last segment; a deeper path or a longer segment names nothing this source serves (404). */
export function lastSegment(request: SegmentRequest, what: string): string {
  const value = request.params["*"];
  if (value === "" || value.includes("/") || value.length > maxSegmentLength) {
    throw new RegistryError(
      Code.NotFound,
      `no ${what} at ${request.url.slice(0, 300)}: ${what} paths are one segment of at most ${maxSegmentLength} characters`,
    );
  }
  return value;
}
