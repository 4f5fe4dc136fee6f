// Builds OCI image layouts in code (no committed binaries): layers as gzip'd tars, a config, a manifest, index.json.
import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createGzip, gzipSync } from "node:zlib";
import { pack } from "tar-stream";

export type LayerEntry =
  | { name: string; type?: "file"; content: Buffer | string; mode?: number }
  | { name: string; type: "directory" }
  | { name: string; type: "symlink" | "link"; linkname: string };

export interface ImageSpec {
  /** Each layer: entries to tar and gzip, or raw bytes used as they are (hostile layers). */
  layers: (LayerEntry[] | Buffer)[];
  entrypoint: string[];
  env?: string[];
  labels?: Record<string, string>;
  /** Leave the manifest's top-level mediaType out, as umoci does. */
  omitMediaType?: boolean;
}

export interface BuiltImage {
  manifest: Buffer;
  manifestDigest: string;
  config: Buffer;
  blobs: Map<string, Buffer>;
}

export const sha256 = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

export async function tarOf(entries: readonly LayerEntry[]): Promise<Buffer> {
  const p = pack();
  for (const e of entries) {
    if ("linkname" in e) {
      p.entry({ name: e.name, type: e.type, linkname: e.linkname, mtime: new Date(0) });
    } else if ("content" in e) {
      p.entry({ name: e.name, mode: e.mode ?? 0o644, mtime: new Date(0) }, Buffer.from(e.content));
    } else {
      p.entry({ name: e.name, type: "directory", mode: 0o755, mtime: new Date(0) });
    }
  }
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

export async function buildImage(spec: ImageSpec): Promise<BuiltImage> {
  const blobs = new Map<string, Buffer>();
  const layers: { digest: string; size: number; diffId: string }[] = [];
  for (const layer of spec.layers) {
    const tar = Buffer.isBuffer(layer) ? layer : await tarOf(layer);
    const gz = Buffer.isBuffer(layer) ? layer : gzipSync(tar);
    blobs.set(sha256(gz), gz);
    layers.push({ digest: sha256(gz), size: gz.length, diffId: sha256(tar) });
  }
  const config = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      config: { Entrypoint: spec.entrypoint, Env: spec.env ?? [], Labels: spec.labels ?? {} },
      rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
    }),
  );
  blobs.set(sha256(config), config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      ...(spec.omitMediaType ? {} : { mediaType: "application/vnd.oci.image.manifest.v1+json" }),
      config: {
        mediaType: "application/vnd.oci.image.config.v1+json",
        digest: sha256(config),
        size: config.length,
      },
      layers: layers.map((l) => ({
        mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
        digest: l.digest,
        size: l.size,
      })),
    }),
  );
  return { manifest, manifestDigest: sha256(manifest), config, blobs };
}

/** Writes the image as an OCI layout directory that `skopeo copy oci:DIR:TAG …` reads. */
export async function writeLayout(dir: string, image: BuiltImage, tag: string): Promise<void> {
  const blobDir = join(dir, "blobs", "sha256");
  await mkdir(blobDir, { recursive: true });
  for (const [digest, bytes] of [...image.blobs, [image.manifestDigest, image.manifest] as const]) {
    await writeFile(join(blobDir, digest.slice("sha256:".length)), bytes);
  }
  await writeFile(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  await writeFile(
    join(dir, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          digest: image.manifestDigest,
          size: image.manifest.length,
          annotations: { "org.opencontainers.image.ref.name": tag },
        },
      ],
    }),
  );
}

/** A one-layer image around a static binary of this machine, at /usr/bin/NAME, as its entrypoint. */
export async function staticBinaryImage(binary: string, labels: Record<string, string>): Promise<BuiltImage> {
  const name = binary.slice(binary.lastIndexOf("/") + 1);
  return buildImage({
    layers: [[{ name: `usr/bin/${name}`, content: await readFile(binary), mode: 0o755 }]],
    entrypoint: [`/usr/bin/${name}`],
    labels,
  });
}

/** `count` empty directories, a hundred per parent: a layer of a few MB that unpacks to count × a disk block. */
export function directoryBomb(count: number): LayerEntry[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `bomb/${i % 100}/${i}/`,
    type: "directory" as const,
  }));
}

/**
 * A gzip layer of the tar of `entries` followed, inside the same gzip stream, by `trailingBytes` of zeros: tiny
 * compressed, huge if anyone inflates past the tar's end-of-archive.
 */
export async function trailingDataLayer(
  entries: readonly LayerEntry[],
  trailingBytes: number,
): Promise<Buffer> {
  const gzip = createGzip({ level: 1 });
  const out: Buffer[] = [];
  gzip.on("data", (c: Buffer) => out.push(c));
  const ended = new Promise<void>((resolve, reject) => gzip.once("end", resolve).once("error", reject));
  const write = async (b: Buffer) => {
    if (!gzip.write(b)) await new Promise((r) => gzip.once("drain", r));
  };
  await write(await tarOf(entries));
  const zeros = Buffer.alloc(1 << 20);
  for (let left = trailingBytes; left > 0; left -= zeros.length)
    await write(zeros.subarray(0, Math.min(left, zeros.length)));
  gzip.end();
  await ended;
  return Buffer.concat(out);
}

/** One ustar header block of an empty directory (what tar-stream's pack writes, without its per-entry cost). */
function directoryHeader(name: string): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, "utf8");
  h.write("0000755\0", 100, "latin1");
  h.write("0000000\0", 108, "latin1");
  h.write("0000000\0", 116, "latin1");
  h.write("00000000000\0", 124, "latin1");
  h.write("00000000000\0", 136, "latin1");
  h.write("5", 156, "latin1");
  h.write("ustar\x0000", 257, "latin1");
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
  return h;
}

/** directoryBomb(count) as a gzip'd tar layer, built directly (100,000 entries in well under a second). */
export function directoryBombLayer(count: number): Buffer {
  const blocks: Buffer[] = [];
  for (let i = 0; i < count; i++) blocks.push(directoryHeader(`bomb/${i % 100}/${i}/`));
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks), { level: 1 });
}
