import assert from "node:assert/strict";
import { lstat, mkdtemp, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { editFile } from "./edit-file.js";

describe("editFile", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "protodepot-edit-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));
  const modeOf = async (path: string) => (await stat(path)).mode & 0o777;
  const append = (text: string) => `${text}x=1\n`;

  it("creates a missing file (and its directory) with the given mode, whatever the umask", async () => {
    const path = join(dir, "new", ".npmrc");
    const umask = process.umask(0);
    try {
      assert.equal(await editFile(path, append, 0o600), "created");
    } finally {
      process.umask(umask);
    }
    assert.equal(await readFile(path, "utf8"), "x=1\n");
    assert.equal(await modeOf(path), 0o600);
  });

  it("gives an existing file the mode too, even when its content is already right", async () => {
    const path = join(dir, "wide");
    await writeFile(path, "a=1\n", { mode: 0o644 });
    assert.equal(await editFile(path, append, 0o600), "updated");
    assert.equal(await readFile(path, "utf8"), "a=1\nx=1\n");
    assert.equal(await modeOf(path), 0o600);
    const same = join(dir, "same-content");
    await writeFile(same, "x=1\n", { mode: 0o644 });
    assert.equal(await editFile(same, (t) => t, 0o600), "unchanged");
    assert.equal(await modeOf(same), 0o600);
  });

  it("does not rewrite a file whose content would not change", async () => {
    const path = join(dir, "same");
    await writeFile(path, "x=1\n");
    const { ino, mtimeMs } = await stat(path);
    assert.equal(await editFile(path, (t) => t, 0o600), "unchanged");
    const now = await stat(path);
    assert.deepEqual([now.ino, now.mtimeMs], [ino, mtimeMs]);
  });

  it("edits the target of a symlink and leaves the link in place", async () => {
    const target = join(dir, "dotfiles-npmrc");
    const link = join(dir, "linked-npmrc");
    await writeFile(target, "a=1\n");
    await symlink(target, link);
    assert.equal(await editFile(link, append, 0o600), "updated");
    assert.ok((await lstat(link)).isSymbolicLink());
    assert.equal(await readFile(target, "utf8"), "a=1\nx=1\n");
  });
});
