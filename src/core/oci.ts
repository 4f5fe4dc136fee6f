// OCI image documents (manifests, indexes, configs; OCI and Docker schema2 media types): parsing and platform choice.
import { z } from "zod";
import { Code, RegistryError } from "./errors.js";

export const mediaTypes = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
} as const;

export const manifestMediaTypes: readonly string[] = [
  mediaTypes.ociManifest,
  mediaTypes.ociIndex,
  mediaTypes.dockerManifest,
  mediaTypes.dockerList,
];

/** Only sha256: every digest we store, and the only one the spec requires registries to support. */
export const digestPattern = /^sha256:[0-9a-f]{64}$/;

const descriptor = z.object({
  mediaType: z.string().min(1),
  digest: z.string().regex(digestPattern, "digest must be sha256:<64 lowercase hex>"),
  size: z.number().int().nonnegative(),
  platform: z
    .object({
      os: z.string().optional(),
      architecture: z.string().optional(),
      variant: z.string().optional(),
    })
    .optional(),
});
export type Descriptor = z.infer<typeof descriptor>;

const imageManifest = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  config: descriptor,
  layers: z.array(descriptor).max(256, "an image may have at most 256 layers"),
});
const indexManifest = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  manifests: z.array(descriptor).max(256, "an index may list at most 256 manifests"),
});

export type ParsedManifest =
  | { kind: "image"; mediaType: string; config: Descriptor; layers: Descriptor[] }
  | { kind: "index"; mediaType: string; manifests: Descriptor[] };

const invalid = (message: string) => new RegistryError(Code.InvalidArgument, `invalid manifest: ${message}`);

/**
 * Parses a manifest as pushed. The media type comes from the document, else from the request's Content-Type, else
 * from its shape (umoci writes OCI manifests without a top-level mediaType).
 */
export function parseManifest(bytes: Uint8Array, contentType?: string): ParsedManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    throw invalid("not JSON");
  }
  const declared =
    typeof doc === "object" && doc !== null && typeof (doc as { mediaType?: unknown }).mediaType === "string"
      ? (doc as { mediaType: string }).mediaType
      : undefined;
  const header = contentType?.split(";")[0]?.trim();
  const typed = declared ?? (header && manifestMediaTypes.includes(header) ? header : undefined);
  const isIndex =
    typed === mediaTypes.ociIndex ||
    typed === mediaTypes.dockerList ||
    (typed === undefined && typeof doc === "object" && doc !== null && "manifests" in doc);
  if (typed !== undefined && !manifestMediaTypes.includes(typed)) {
    throw invalid(`unsupported media type ${typed} (supported: ${manifestMediaTypes.join(", ")})`);
  }
  const parsed = (isIndex ? indexManifest : imageManifest).safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalid(`${issue?.path.join(".") || "document"}: ${issue?.message ?? "malformed"}`);
  }
  if ("manifests" in parsed.data) {
    return { kind: "index", mediaType: typed ?? mediaTypes.ociIndex, manifests: parsed.data.manifests };
  }
  const image = parsed.data as z.infer<typeof imageManifest>;
  return {
    kind: "image",
    mediaType: typed ?? mediaTypes.ociManifest,
    config: image.config,
    layers: image.layers,
  };
}

/** The manifest of an index for os/architecture; an entry without a platform counts as linux/amd64. */
export function pickPlatform(
  manifests: readonly Descriptor[],
  os = "linux",
  architecture = "amd64",
): Descriptor | undefined {
  return manifests.find(
    (m) => (m.platform?.os ?? "linux") === os && (m.platform?.architecture ?? "amd64") === architecture,
  );
}

const imageConfig = z.object({
  architecture: z.string().optional(),
  os: z.string().optional(),
  config: z
    .object({
      Entrypoint: z.array(z.string()).nullish(),
      Cmd: z.array(z.string()).nullish(),
      Env: z.array(z.string()).nullish(),
      WorkingDir: z.string().nullish(),
      Labels: z.record(z.string(), z.string()).nullish(),
    })
    .nullish(),
});

export interface ImageConfig {
  os: string;
  architecture: string;
  /** Entrypoint followed by Cmd: what the runtime executes. */
  argv: string[];
  env: Record<string, string>;
  workingDir: string;
  labels: Record<string, string>;
}

export function parseImageConfig(bytes: Uint8Array): ImageConfig {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    throw new RegistryError(Code.InvalidArgument, "invalid image config: not JSON");
  }
  const parsed = imageConfig.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RegistryError(
      Code.InvalidArgument,
      `invalid image config: ${issue?.path.join(".")}: ${issue?.message ?? "malformed"}`,
    );
  }
  const c = parsed.data.config ?? {};
  const env: Record<string, string> = {};
  for (const entry of c.Env ?? []) {
    const eq = entry.indexOf("=");
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return {
    os: parsed.data.os ?? "linux",
    architecture: parsed.data.architecture ?? "amd64",
    argv: [...(c.Entrypoint ?? []), ...(c.Cmd ?? [])],
    env,
    workingDir: c.WorkingDir || "/",
    labels: c.Labels ?? {},
  };
}
