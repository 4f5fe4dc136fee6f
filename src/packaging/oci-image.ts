// A minimal OCI image around one static binary: one deterministic layer, a config with ENTRYPOINT and labels.
import { createHash } from "node:crypto";
import { createTar, createTarGz } from "./tar.js";

export interface BinaryImageInput {
  /** File name inside the image, at /usr/bin/{name}. */
  name: string;
  binary: Uint8Array;
  labels: Record<string, string>;
}

export interface BuiltBlob {
  digest: string;
  bytes: Uint8Array;
}

export interface BinaryImage {
  layer: BuiltBlob;
  config: BuiltBlob;
  manifest: BuiltBlob;
  blobs: BuiltBlob[];
}

const blob = (bytes: Uint8Array): BuiltBlob => ({
  digest: `sha256:${createHash("sha256").update(bytes).digest("hex")}`,
  bytes,
});

/** The same binary and labels give the same digests on every machine (fixed mtimes, modes, gzip settings). */
export async function buildBinaryImage(input: BinaryImageInput): Promise<BinaryImage> {
  const entries = [{ path: `usr/bin/${input.name}`, content: input.binary, executable: true }];
  const diffId = blob(await createTar(entries)).digest;
  const layer = blob(await createTarGz(entries));
  const config = blob(
    Buffer.from(
      JSON.stringify({
        architecture: "amd64",
        os: "linux",
        config: { Entrypoint: [`/usr/bin/${input.name}`], Labels: input.labels },
        rootfs: { type: "layers", diff_ids: [diffId] },
      }),
    ),
  );
  const manifest = blob(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: {
          mediaType: "application/vnd.oci.image.config.v1+json",
          digest: config.digest,
          size: config.bytes.length,
        },
        layers: [
          {
            mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
            digest: layer.digest,
            size: layer.bytes.length,
          },
        ],
      }),
    ),
  );
  return { layer, config, manifest, blobs: [layer, config] };
}

/** Labels for runtime libraries: BSR's name/version pair plus our ecosystem label, index by index. */
export function runtimeLibraryLabels(
  libs: readonly { ecosystem: string; name: string; version: string }[],
): Record<string, string> {
  const labels: Record<string, string> = {};
  libs.forEach((lib, i) => {
    labels[`build.buf.plugins.runtime_library_versions.${i}.name`] = lib.name;
    labels[`build.buf.plugins.runtime_library_versions.${i}.version`] = lib.version;
    labels[`dev.protodepot.plugins.runtime_library_versions.${i}.ecosystem`] = lib.ecosystem;
  });
  return labels;
}
