// The compact index's three files (https://guides.rubygems.org/rubygems-org-compact-index-api/): `/versions`,
// `/info/{name}` and `/names`, as Bundler and `gem` read them.
import { createHash } from "node:crypto";
import { compactRequirement } from "../../ecosystems/rubygems/gemspec.js";
import { requiredRubyVersion } from "../../generate/package/rubygems.js";
import type { GemListing } from "./catalog.js";

/**
 * `/versions` is an append-only file on rubygems.org, and its header says when it was started. Ours is rebuilt
 * from what exists, so the date is a constant: Bundler only reads it as part of the file, never as a time.
 */
const versionsHeader = "created_at: 2000-01-01T00:00:00Z\n---\n";

const md5 = (text: string) => createHash("md5").update(text).digest("hex");

/**
 * `---` then one line per version, oldest first: `VER DEP:REQ,DEP:REQ|checksum:SHA256,ruby:>= 2.5`. With no
 * dependencies the line is `VER |checksum:…` (the space stays, as rubygems.org writes it).
 */
export function renderInfo(listing: GemListing): string {
  const lines = listing.versions.map((v) => {
    const deps = v.dependencies.map(([name, req]) => `${name}:${compactRequirement(req)}`).join(",");
    return `${v.version} ${deps}|checksum:${v.sha256},ruby:${requiredRubyVersion}`;
  });
  return `---\n${lines.map((l) => `${l}\n`).join("")}`;
}

/** `NAME VER1,VER2 MD5`, where MD5 is of the gem's `/info` file: Bundler refetches an info whose MD5 changed. */
export function renderVersions(listings: readonly GemListing[]): string {
  const lines = listings.map(
    (l) => `${l.name} ${l.versions.map((v) => v.version).join(",")} ${md5(renderInfo(l))}\n`,
  );
  return `${versionsHeader}${lines.join("")}`;
}

export function renderNames(listings: readonly GemListing[]): string {
  return `---\n${listings.map((l) => `${l.name}\n`).join("")}`;
}

/**
 * Bundler compares an ETag with `"{md5 of the body}"` and rejects the index on any other (a sha256 ETag made it
 * fall back to the legacy API): the ETag is exactly that. Repr-Digest is what newer Bundlers check instead.
 */
export function indexHeaders(body: string): { etag: string; reprDigest: string } {
  return {
    etag: `"${md5(body)}"`,
    reprDigest: `sha-256=:${createHash("sha256").update(body).digest("base64")}:`,
  };
}
