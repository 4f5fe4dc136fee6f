// Wipes a stopped server's generation cache (artifact records and their blobs), as an operator might.
import { join } from "node:path";
import { createFsBlobStore } from "../../../src/storage/blob/fs/fs-blob-store.js";
import { createSqliteMetadataStore } from "../../../src/storage/meta/sqlite/sqlite-metadata-store.js";

export async function wipeArtifacts(dataDir: string): Promise<number> {
  const meta = await createSqliteMetadataStore({ path: join(dataDir, "metadata.sqlite") });
  const blobs = await createFsBlobStore({ root: join(dataDir, "blobs"), fsync: false });
  try {
    const records = await meta.listArtifacts({});
    for (const r of records) await blobs.delete(r.blob);
    await meta.deleteArtifacts({});
    return records.length;
  } finally {
    await meta.close();
  }
}
