// Artifact records: (template version, commit, scope, flavour) → packaged blob.
import type { Kysely } from "kysely";
import { Code, RegistryError } from "../../../core/errors.js";
import type { ArtifactKey, ArtifactRecord } from "../../../core/types.js";
import type { ArtifactFilter, ArtifactStore } from "../metadata-store.js";
import { chunks, now } from "./common.js";
import { toArtifact } from "./rows.js";
import type { Database } from "./schema.js";
import { isForeignKeyViolation } from "./sql-errors.js";

/** Commit ids in one `IN (…)`: far below SQLite's and PostgreSQL's bound on parameters. */
const maxInList = 500;

/** The order listArtifacts returns: the key's columns, left to right. */
function compareArtifacts(a: ArtifactKey, b: ArtifactKey): number {
  const pairs: [string | number, string | number][] = [
    [a.templateId, b.templateId],
    [a.templateVersion, b.templateVersion],
    [a.commitId, b.commitId],
    [a.scope, b.scope],
    [a.flavour, b.flavour],
  ];
  for (const [x, y] of pairs) if (x !== y) return x < y ? -1 : 1;
  return 0;
}

async function putArtifact(
  db: Kysely<Database>,
  record: Omit<ArtifactRecord, "createdAt">,
): Promise<ArtifactRecord> {
  try {
    await db
      .insertInto("artifacts")
      .values({
        template_id: record.templateId,
        template_version: record.templateVersion,
        commit_id: record.commitId,
        scope: record.scope,
        flavour: record.flavour,
        blob: record.blob,
        digest: record.digest,
        size: record.size,
        extra: JSON.stringify(record.extra),
        created_at: now(),
      })
      .onConflict((oc) =>
        oc.columns(["template_id", "template_version", "commit_id", "scope", "flavour"]).doNothing(),
      )
      .execute();
  } catch (err) {
    if (isForeignKeyViolation(err)) {
      throw new RegistryError(
        Code.NotFound,
        `artifact refers to an unknown template version (${record.templateId} v${record.templateVersion}) or commit ${record.commitId}`,
        { op: "putArtifact" },
      );
    }
    throw err;
  }
  const stored = await getArtifact(db, record);
  if (!stored) throw new RegistryError(Code.Internal, "artifact vanished right after it was stored");
  return stored;
}

async function listArtifacts(db: Kysely<Database>, filter: ArtifactFilter): Promise<ArtifactRecord[]> {
  const { commitIds } = filter;
  if (commitIds && commitIds.length > maxInList) {
    // SQLite and PostgreSQL bound the parameters of one statement; huge modules take a few statements.
    const parts: ArtifactRecord[] = [];
    for (const ids of chunks(commitIds, maxInList)) {
      parts.push(...(await listArtifacts(db, { ...filter, commitIds: ids })));
    }
    return parts.sort(compareArtifacts);
  }
  if (commitIds?.length === 0) return [];
  let q = db.selectFrom("artifacts").selectAll();
  if (commitIds) q = q.where("commit_id", "in", [...commitIds]);
  if (filter.templateId !== undefined) q = q.where("template_id", "=", filter.templateId);
  if (filter.templateVersion !== undefined) q = q.where("template_version", "=", filter.templateVersion);
  if (filter.commitId !== undefined) q = q.where("commit_id", "=", filter.commitId);
  if (filter.scope !== undefined) q = q.where("scope", "=", filter.scope);
  if (filter.flavour !== undefined) q = q.where("flavour", "=", filter.flavour);
  const rows = await q
    .orderBy("template_id")
    .orderBy("template_version")
    .orderBy("commit_id")
    .orderBy("scope")
    .orderBy("flavour")
    .execute();
  return rows.map(toArtifact);
}

async function deleteArtifacts(db: Kysely<Database>, filter: Partial<ArtifactKey>): Promise<number> {
  let q = db.deleteFrom("artifacts");
  if (filter.templateId !== undefined) q = q.where("template_id", "=", filter.templateId);
  if (filter.templateVersion !== undefined) q = q.where("template_version", "=", filter.templateVersion);
  if (filter.commitId !== undefined) q = q.where("commit_id", "=", filter.commitId);
  if (filter.scope !== undefined) q = q.where("scope", "=", filter.scope);
  if (filter.flavour !== undefined) q = q.where("flavour", "=", filter.flavour);
  const res = await q.executeTakeFirst();
  return Number(res.numDeletedRows);
}

async function getArtifact(db: Kysely<Database>, key: ArtifactKey): Promise<ArtifactRecord | undefined> {
  const row = await db
    .selectFrom("artifacts")
    .selectAll()
    .where("template_id", "=", key.templateId)
    .where("template_version", "=", key.templateVersion)
    .where("commit_id", "=", key.commitId)
    .where("scope", "=", key.scope)
    .where("flavour", "=", key.flavour)
    .executeTakeFirst();
  return row && toArtifact(row);
}

export function createKyselyArtifactStore(db: Kysely<Database>): ArtifactStore {
  return {
    getArtifact: (key) => getArtifact(db, key),
    putArtifact: (record) => putArtifact(db, record),
    listArtifacts: (filter) => listArtifacts(db, filter),
    deleteArtifacts: (filter) => deleteArtifacts(db, filter),
  };
}
