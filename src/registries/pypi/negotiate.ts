// PEP 691 content negotiation: the index answers JSON or HTML by the client's Accept header.
export type IndexFormat = { kind: "json" | "html"; contentType: string };

const json = "application/vnd.pypi.simple.v1+json";
const html = "application/vnd.pypi.simple.v1+html";

/** What each media type a client may name answers with; on equal quality the earlier one wins. */
const offers: [string, IndexFormat][] = [
  [json, { kind: "json", contentType: json }],
  ["application/vnd.pypi.simple.latest+json", { kind: "json", contentType: json }],
  [html, { kind: "html", contentType: html }],
  ["application/vnd.pypi.simple.latest+html", { kind: "html", contentType: html }],
  ["text/html", { kind: "html", contentType: "text/html; charset=utf-8" }],
  ["*/*", { kind: "html", contentType: "text/html; charset=utf-8" }],
  ["text/*", { kind: "html", contentType: "text/html; charset=utf-8" }],
];

const maxAcceptLength = 4096;

const fallback: IndexFormat = { kind: "html", contentType: "text/html; charset=utf-8" };

/**
 * The offer of the highest quality the header names (ties: JSON first). No header, or one naming nothing we
 * serve, gets text/html: PEP 691 allows a default instead of a 406, and every installer reads HTML.
 */
export function negotiate(accept: string | undefined): IndexFormat {
  if (!accept || accept.trim() === "") return fallback;
  let best: { q: number; rank: number; format: IndexFormat } | undefined;
  for (const part of accept.slice(0, maxAcceptLength).split(",")) {
    const [type = "", ...params] = part.split(";").map((s) => s.trim().toLowerCase());
    const qParam = params.find((p) => p.startsWith("q="));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!Number.isFinite(q) || q <= 0) continue;
    const rank = offers.findIndex(([t]) => t === type);
    const offer = offers[rank];
    if (!offer) continue;
    if (!best || q > best.q || (q === best.q && rank < best.rank)) best = { q, rank, format: offer[1] };
  }
  return best?.format ?? fallback;
}
