// Reading npm requests: the package name from either URL form, and the base URL tarball links point at.
import type { FastifyRequest } from "fastify";
import { invalidArgument } from "../../core/errors.js";

/** `/npm/@scope%2fname` gives `{ name }` (the router decodes `%2f`); `/npm/@scope/name` gives `{ scope, name }`. */
export interface PackageParams {
  scope?: string;
  name: string;
}

export function packageNameOf(params: PackageParams): string {
  const name = params.scope === undefined ? params.name : `${params.scope}/${params.name}`;
  if (name.length > 214)
    throw invalidArgument(`invalid package name: npm names are at most 214 characters, got ${name.length}`);
  return name;
}

/**
 * `{origin}/npm`: the configured public URL when there is one, else the origin the client used, so a registry
 * behind a proxy or reached by another name links tarballs that this client can fetch (and send its token to).
 */
export function registryBase(request: FastifyRequest, publicUrl: string | undefined): string {
  const origin = publicUrl ? publicUrl.replace(/\/+$/, "") : `${request.protocol}://${request.host}`;
  return `${origin}/npm`;
}
