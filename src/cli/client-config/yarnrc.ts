// .yarnrc.yml for Yarn 4 (which reads no .npmrc): the scope's registry and token, and the scope exempt from the
// one-day age gate of Yarn ≥ 4.15 (versions are generated on demand: a fresh push would wait a day otherwise).
import { Document, isMap, isSeq, parseDocument } from "yaml";

export function upsertYarnrc(text: string, opts: { scope: string; registry: string; token: string }): string {
  const parsed = parseDocument(text);
  if (parsed.errors.length > 0) throw new Error(`not valid YAML: ${parsed.errors[0]?.message ?? ""}`);
  // An empty file (or one that is not a mapping) starts from an empty mapping.
  const doc: Document = isMap(parsed.contents) ? parsed : new Document({});
  doc.setIn(["npmScopes", opts.scope, "npmRegistryServer"], opts.registry);
  doc.setIn(["npmScopes", opts.scope, "npmAuthToken"], opts.token);
  const pattern = `@${opts.scope}/*`;
  const approved = doc.get("npmPreapprovedPackages");
  if (isSeq(approved)) {
    if (!approved.items.some((i) => String((i as { value?: unknown }).value ?? i) === pattern))
      approved.add(pattern);
  } else doc.set("npmPreapprovedPackages", [pattern]);
  const url = new URL(opts.registry);
  if (url.protocol === "http:") {
    const allowed = doc.get("unsafeHttpWhitelist");
    if (isSeq(allowed)) {
      if (!allowed.items.some((i) => String((i as { value?: unknown }).value ?? i) === url.hostname))
        allowed.add(url.hostname);
    } else doc.set("unsafeHttpWhitelist", [url.hostname]);
  }
  return doc.toString();
}
