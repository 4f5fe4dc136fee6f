// Paging of buf's List calls: page sizes and the opaque page tokens we hand out (buf passes them back verbatim).
import { Code, RegistryError } from "../../core/errors.js";

/** buf's own bound on page_size; 0 (unset) gets buf's default flag value. */
const maxPageSize = 250;
const defaultPageSize = 10;

export function pageSize(requested: number): number {
  if (requested === 0) return defaultPageSize;
  if (requested > maxPageSize)
    throw new RegistryError(Code.InvalidArgument, `page_size ${requested} is above ${maxPageSize}`);
  return requested;
}

/** A token is a kind letter and a non-negative integer (a commit seq, or an offset into a listing). */
export function encodeToken(kind: string, n: number): string {
  return `${kind}${n}`;
}

export function decodeToken(kind: string, token: string): number | undefined {
  if (token === "") return undefined;
  const n = token.startsWith(kind) ? Number(token.slice(kind.length)) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 0)
    throw new RegistryError(
      Code.InvalidArgument,
      `invalid page token "${token}": pass next_page_token as given`,
    );
  return n;
}
