// `protodepot fsck`: every blob hashed against its key, every row's blob looked up, leftovers of crashes found;
// with repair, what can be fixed without a backup is fixed. Damaged commit blobs (sources, images) have no other
// copy: they are reported, never touched.
import { createHash } from "node:crypto";
import type { ArtifactKey, ArtifactRecord, Commit, Module } from "../core/types.js";
import type { BlobMaintenance, BlobStore } from "../storage/blob/blob-store.js";
import { contentPrefix } from "../storage/blob/paths.js";
import { digestOfKey } from "../storage/blob/verify.js";
import type { ArtifactFilter, Page } from "../storage/meta/metadata-store.js";

/** The few store methods fsck uses. */
export interface FsckMeta {
  listModules(): Promise<Module[]>;
  listCommits(moduleId: string, page: Page): Promise<Commit[]>;
  listArtifacts(filter: ArtifactFilter): Promise<ArtifactRecord[]>;
  deleteArtifacts(filter: Partial<ArtifactKey>): Promise<number>;
  countIdleLeases(expiredForMs: number): Promise<number>;
  pruneLeases(expiredForMs: number): Promise<number>;
}

export interface FsckOptions {
  meta: FsckMeta;
  /** The driver itself, not the verifying or caching wrappers: fsck hashes every byte on its own. */
  blobs: BlobStore & Partial<BlobMaintenance>;
  repair: boolean;
  /**
   * Unreferenced blobs and temp leftovers younger than this are left alone: a push or generation in progress
   * writes its blobs before the rows that reference them.
   */
  graceMs: number;
  /** A lease row expired for longer than this belongs to a crashed holder. */
  leaseGraceMs?: number;
  now?: () => number;
  /** One line per finding as it is found. */
  progress?: (line: string) => void;
}

export interface FsckFinding {
  key: string;
  /** What references it: `commit acme/pay 0123… sources`, `artifact {key}`, `oci acme/plugin`. */
  usedBy: string[];
  /** What repair did about it; absent: nothing (or not repairing). */
  repaired?: string;
}

export interface FsckReport {
  blobs: number;
  commits: number;
  artifacts: number;
  /** Blobs whose bytes do not hash to their key. */
  corrupt: FsckFinding[];
  /** Rows whose blob is gone. */
  dangling: FsckFinding[];
  /** Blobs nothing references, older than the grace period. */
  orphans: FsckFinding[];
  /** Temp files or unfinished uploads older than the grace period. */
  leftovers: FsckFinding[];
  /** Lease rows of finished or crashed holders. */
  idleLeases: number;
  prunedLeases: number;
  /** Findings repair could not fix (damaged commit blobs, damaged plugin images): the exit status of the command. */
  unrepaired: number;
}

const artifactName = (a: ArtifactKey) =>
  `artifact ${a.templateId}/${a.templateVersion}/${a.commitId}/${a.scope}/${a.flavour}`;

async function hashBlob(blobs: BlobStore, key: string): Promise<string | undefined> {
  const stream = await blobs.get(key);
  if (!stream) return undefined;
  const hash = createHash("sha256");
  for await (const chunk of stream) hash.update(chunk as Uint8Array);
  return hash.digest("hex");
}

/** What references each blob: commits (sources, image), artifacts, and plugin images by their repository links. */
interface References {
  users: Map<string, string[]>;
  commits: number;
  artifacts: number;
  artifactsByBlob: Map<string, ArtifactRecord[]>;
}

async function collectReferences(meta: FsckMeta, blobs: FsckOptions["blobs"]): Promise<References> {
  const users = new Map<string, string[]>();
  const use = (key: string, by: string) => {
    const list = users.get(key);
    if (list) list.push(by);
    else users.set(key, [by]);
  };
  let commits = 0;
  for (const mod of await meta.listModules()) {
    for (let beforeSeq: number | undefined; ; ) {
      const page = await meta.listCommits(mod.id, { limit: 500, ...(beforeSeq ? { beforeSeq } : {}) });
      for (const c of page) {
        commits++;
        use(c.sourcesBlob, `commit ${c.owner}/${c.module} ${c.id} sources`);
        use(c.imageBlob, `commit ${c.owner}/${c.module} ${c.id} image`);
      }
      const last = page[page.length - 1];
      if (page.length < 500 || !last) break;
      beforeSeq = last.seq;
    }
  }
  const artifacts = await meta.listArtifacts({});
  const artifactsByBlob = new Map<string, ArtifactRecord[]>();
  for (const a of artifacts) {
    use(a.blob, artifactName(a));
    artifactsByBlob.set(a.blob, [...(artifactsByBlob.get(a.blob) ?? []), a]);
  }
  // Plugin images: each blob and manifest is linked to the repositories it was pushed to (paths.ts).
  for await (const link of blobs.list("oci/links/")) {
    const parts = link.split("/");
    const hex = parts[parts.length - 1] ?? "";
    if (/^[0-9a-f]{64}$/.test(hex))
      use(`${contentPrefix}${hex.slice(0, 2)}/${hex}`, `oci ${parts[2]}/${parts[3]}`);
  }
  return { users, commits, artifacts: artifacts.length, artifactsByBlob };
}

/** Removes an artifact's blob and every record on it: the next request generates it again, byte for byte. */
async function dropArtifacts(
  opts: FsckOptions,
  key: string,
  records: readonly ArtifactRecord[],
): Promise<string> {
  await opts.blobs.delete(key);
  for (const { templateId, templateVersion, commitId, scope, flavour } of records) {
    await opts.meta.deleteArtifacts({ templateId, templateVersion, commitId, scope, flavour });
  }
  return `removed ${records.length} artifact record(s) and the blob: regenerated on the next request`;
}

/** Hashes every content blob: corrupt ones and old unreferenced ones are findings; returns the keys present. */
async function checkBlobs(opts: FsckOptions, refs: References, report: FsckReport): Promise<Set<string>> {
  const { blobs, repair } = opts;
  const now = opts.now ?? Date.now;
  const say = opts.progress ?? (() => {});
  const present = new Set<string>();
  for await (const key of blobs.list(contentPrefix)) {
    present.add(key);
    report.blobs++;
    const expected = digestOfKey(key);
    const actual = await hashBlob(blobs, key);
    const usedBy = refs.users.get(key) ?? [];
    if (expected !== undefined && actual !== undefined && actual !== expected) {
      const finding: FsckFinding = { key, usedBy };
      const onArtifacts = refs.artifactsByBlob.get(key) ?? [];
      if (repair && usedBy.length > 0 && onArtifacts.length === usedBy.length) {
        finding.repaired = await dropArtifacts(opts, key, onArtifacts);
      } else if (repair && usedBy.length === 0) {
        await blobs.delete(key);
        finding.repaired = "removed (referenced by nothing)";
      }
      report.corrupt.push(finding);
      say(`corrupt  ${key} (hashes to ${actual}) used by: ${usedBy.join(", ") || "nothing"}`);
      continue;
    }
    if (usedBy.length > 0) continue;
    const modified = await blobs.modifiedAt?.(key);
    if (modified === undefined || now() - modified < opts.graceMs) continue;
    const finding: FsckFinding = { key, usedBy };
    if (repair) {
      await blobs.delete(key);
      finding.repaired = "removed";
    }
    report.orphans.push(finding);
    say(`orphan   ${key}`);
  }
  return present;
}

/** Blobs referenced but missing, then temp files a crashed write left behind. */
async function checkMissing(opts: FsckOptions, refs: References, present: Set<string>, report: FsckReport) {
  const { blobs, repair } = opts;
  const now = opts.now ?? Date.now;
  const say = opts.progress ?? (() => {});
  for (const [key, usedBy] of refs.users) {
    if (present.has(key)) continue;
    const finding: FsckFinding = { key, usedBy };
    const onArtifacts = refs.artifactsByBlob.get(key) ?? [];
    if (repair && onArtifacts.length === usedBy.length)
      finding.repaired = await dropArtifacts(opts, key, onArtifacts);
    report.dangling.push(finding);
    say(`missing  ${key} used by: ${usedBy.join(", ")}`);
  }
  if (!blobs.listLeftovers) return;
  for await (const left of blobs.listLeftovers()) {
    if (now() - left.modifiedAt < opts.graceMs) continue;
    const finding: FsckFinding = { key: left.id, usedBy: [] };
    if (repair && blobs.removeLeftover) {
      await blobs.removeLeftover(left.id);
      finding.repaired = "removed";
    }
    report.leftovers.push(finding);
    say(`leftover ${left.id}`);
  }
}

export async function runFsck(opts: FsckOptions): Promise<FsckReport> {
  const { meta, repair } = opts;
  const leaseGraceMs = opts.leaseGraceMs ?? 60_000;
  // Rows first, then blobs: a blob written after this point is young, and the grace period keeps it.
  const refs = await collectReferences(meta, opts.blobs);
  const report: FsckReport = {
    blobs: 0,
    commits: refs.commits,
    artifacts: refs.artifacts,
    corrupt: [],
    dangling: [],
    orphans: [],
    leftovers: [],
    idleLeases: 0,
    prunedLeases: 0,
    unrepaired: 0,
  };
  const present = await checkBlobs(opts, refs, report);
  await checkMissing(opts, refs, present, report);

  report.idleLeases = await meta.countIdleLeases(leaseGraceMs);
  if (repair && report.idleLeases > 0) report.prunedLeases = await meta.pruneLeases(leaseGraceMs);
  report.unrepaired = [report.corrupt, report.dangling, report.orphans, report.leftovers]
    .flat()
    .filter((f) => f.repaired === undefined).length;
  if (report.idleLeases > report.prunedLeases) report.unrepaired++;
  return report;
}

/** The summary lines the CLI prints. */
export function formatFsckSummary(r: FsckReport, repair: boolean): string {
  const count = (list: readonly FsckFinding[]) => {
    const fixed = list.filter((f) => f.repaired !== undefined).length;
    return repair ? `${list.length} (${fixed} repaired)` : String(list.length);
  };
  return [
    `checked ${r.blobs} blobs, ${r.commits} commits, ${r.artifacts} artifacts`,
    `corrupt blobs: ${count(r.corrupt)}`,
    `rows whose blob is missing: ${count(r.dangling)}`,
    `orphan blobs: ${count(r.orphans)}`,
    `temp leftovers: ${count(r.leftovers)}`,
    `idle lease rows: ${r.idleLeases}${repair ? ` (${r.prunedLeases} pruned)` : ""}`,
    r.unrepaired === 0
      ? "ok"
      : `${r.unrepaired} problem(s) ${repair ? "left (damaged commit or plugin blobs need a backup)" : "found: run with --repair to fix what can be fixed"}`,
  ].join("\n");
}
