// Direct reads and one deliberate corruption of a test server's SQLite metadata, for the buf CLI scenario.
import Database from "better-sqlite3";

export function openSqlite(path: string) {
  const db = new Database(path);
  return {
    b5Of(commitId: string): string | undefined {
      const row = db.prepare("select b5_digest from commits where id = ?").get(commitId) as
        | { b5_digest: string | null }
        | undefined;
      return row?.b5_digest ?? undefined;
    },
    /** Points label `victim`'s commit at the stored files of label `donor`'s commit, keeping its digests. */
    swapSources(owner: string, module: string, victim: string, donor: string): void {
      const head = db.prepare(
        "select c.id, c.sources_blob from labels l join modules m on m.id = l.module_id join commits c on c.id = l.commit_id where m.owner = ? and m.name = ? and l.name = ?",
      );
      const v = head.get(owner, module, victim) as { id: string } | undefined;
      const d = head.get(owner, module, donor) as { sources_blob: string } | undefined;
      if (!v || !d) throw new Error(`labels ${victim} and ${donor} of ${owner}/${module} must exist`);
      db.prepare("update commits set sources_blob = ? where id = ?").run(d.sources_blob, v.id);
    },
    /** The label names of a module, sorted. */
    labelsOf(owner: string, module: string): string[] {
      const rows = db
        .prepare(
          "select l.name from labels l join modules m on m.id = l.module_id where m.owner = ? and m.name = ? order by l.name",
        )
        .all(owner, module) as { name: string }[];
      return rows.map((r) => r.name);
    },
    /** The commit a label points at. */
    headOf(owner: string, module: string, label: string): string | undefined {
      const row = db
        .prepare(
          "select l.commit_id from labels l join modules m on m.id = l.module_id where m.owner = ? and m.name = ? and l.name = ?",
        )
        .get(owner, module, label) as { commit_id: string } | undefined;
      return row?.commit_id;
    },
    /** The commits a commit depends on, in dependency order. */
    depsOf(commitId: string): string[] {
      const rows = db
        .prepare("select dep_commit_id from commit_deps where commit_id = ? order by position")
        .all(commitId) as { dep_commit_id: string }[];
      return rows.map((r) => r.dep_commit_id);
    },
    close: () => db.close(),
  };
}
