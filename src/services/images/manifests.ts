// Manifests and tags: a manifest is stored once every blob it names is in the repository; a tag becomes a plugin
// version (semver, immutable), after the image's labels are read and the owner's quotas (owner-quota.ts) are checked.
import { createHash } from "node:crypto";
import { Code, RegistryError } from "../../core/errors.js";
import type { FullName } from "../../core/names.js";
import { type Descriptor, parseImageConfig, parseManifest, pickPlatform } from "../../core/oci.js";
import type { BlobStore } from "../../storage/blob/blob-store.js";
import { readContent } from "../../storage/blob/content.js";
import { contentKey } from "../../storage/blob/paths.js";
import type { Principal } from "../auth.js";
import { hexOf, ImageFailure, imageError } from "./failures.js";
import { type ImageQuotas, overImageBytes, overImages } from "./owner-quota.js";
import { type ImageStorage, repositoryName } from "./storage.js";
import type { ImageLimits, ImagePlugins, ManifestContent } from "./types.js";
import type { ImageUsage } from "./usage.js";

export interface ImageManifests {
  putManifest(
    principal: Principal,
    repo: FullName,
    reference: string,
    bytes: Uint8Array,
    contentType: string | undefined,
  ): Promise<{ digest: string; version?: string }>;
  getManifest(principal: Principal, repo: FullName, reference: string): Promise<ManifestContent | undefined>;
  /** Tags (plugin versions of pushed images) in lexical order. */
  listTags(principal: Principal, repo: FullName): Promise<string[]>;
}

const tagPattern = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/** Where manifests live, who may read them, and what bounds them. */
interface ManifestContext {
  blobs: BlobStore;
  storage: ImageStorage;
  plugins: ImagePlugins;
  limits: ImageLimits;
  quotas: ImageQuotas;
  usage: Pick<ImageUsage, "images">;
  requireRead: (principal: Principal, repo: FullName) => Promise<void>;
}

export function createImageManifests(c: ManifestContext): ImageManifests {
  /** The descriptor's blob is in the repository and has exactly the size the manifest claims for it. */
  return {
    async putManifest(principal, repo, reference, bytes, contentType) {
      await c.plugins.requireImageWrite(principal, repo.owner);
      await checkManifest(c, repo, reference, bytes, contentType);
      await checkOwnerBytes(c, repo, bytes.length);
      const actual = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
      if (!reference.includes(":")) return pushTag(c, principal, repo, reference, bytes, contentType, actual);
      hexOf(reference);
      if (reference !== actual) {
        throw imageError(
          Code.InvalidArgument,
          ImageFailure.DigestMismatch,
          `the manifest's digest is ${actual}, not ${reference}`,
        );
      }
      await c.storage.storeManifestBytes(repo, bytes);
      return { digest: actual };
    },

    async getManifest(principal, repo, reference) {
      await c.requireRead(principal, repo);
      let digest = reference;
      if (!reference.includes(":")) {
        if (!tagPattern.test(reference)) return undefined;
        const plugin = await c.plugins.findReadablePlugin(principal, repo.owner, repo.name);
        if (!plugin) return undefined;
        const version = (await c.plugins.listPluginVersions(principal, repositoryName(repo))).find(
          (v) => v.version === reference,
        );
        if (version?.source.kind !== "oci") return undefined;
        digest = version.source.digest;
      }
      const hex = hexOf(digest);
      if (!(await c.storage.linked(repo, hex)) || !(await c.blobs.stat(contentKey(hex)))) return undefined;
      const bytes = await readContent(c.blobs, contentKey(hex));
      return { digest, mediaType: parseManifest(bytes).mediaType, bytes };
    },

    async listTags(principal, repo) {
      await c.requireRead(principal, repo);
      if (!(await c.plugins.findReadablePlugin(principal, repo.owner, repo.name))) return [];
      const versions = await c.plugins.listPluginVersions(principal, repositoryName(repo));
      return versions
        .filter((v) => v.source.kind === "oci")
        .map((v) => v.version)
        .sort();
    },
  };
}

async function requireLinked(
  c: ManifestContext,
  repo: FullName,
  d: Descriptor,
  missing: ImageFailure,
  what: string,
) {
  const hex = hexOf(d.digest);
  const stat = (await c.storage.linked(repo, hex)) ? await c.blobs.stat(contentKey(hex)) : undefined;
  if (!stat) {
    throw imageError(
      Code.NotFound,
      missing,
      `${what} ${d.digest} has not been pushed to ${repositoryName(repo)}: push it first`,
    );
  }
  if (stat.size !== d.size) {
    throw imageError(
      Code.InvalidArgument,
      ImageFailure.InvalidManifest,
      `the manifest says ${what} ${d.digest} is ${d.size} bytes, but it is ${stat.size}: fix the descriptor's size`,
    );
  }
}

/** Size, tag and structure: the manifest parses and every blob or manifest it names is in the repository. */
async function checkManifest(
  c: ManifestContext,
  repo: FullName,
  reference: string,
  bytes: Uint8Array,
  contentType?: string,
) {
  if (bytes.length > c.limits.maxManifestBytes) {
    throw imageError(
      Code.ResourceExhausted,
      ImageFailure.TooLarge,
      `manifest is ${bytes.length} bytes; this registry takes at most ${c.limits.maxManifestBytes} (oci.maxManifestBytes)`,
    );
  }
  if (!reference.includes(":") && !tagPattern.test(reference)) {
    throw imageError(Code.InvalidArgument, ImageFailure.InvalidTag, `invalid tag "${reference}"`);
  }
  let parsed: ReturnType<typeof parseManifest>;
  try {
    parsed = parseManifest(bytes, contentType);
  } catch (err) {
    throw imageError(Code.InvalidArgument, ImageFailure.InvalidManifest, RegistryError.from(err).message);
  }
  if (parsed.kind === "image") {
    await requireLinked(c, repo, parsed.config, ImageFailure.MissingBlob, "config blob");
    for (const layer of parsed.layers)
      await requireLinked(c, repo, layer, ImageFailure.MissingBlob, "layer blob");
  } else {
    for (const m of parsed.manifests)
      await requireLinked(c, repo, m, ImageFailure.MissingManifest, "manifest");
  }
}

async function checkOwnerBytes(c: ManifestContext, repo: FullName, adding: number) {
  const { bytes } = await c.quotas.imageLimits(repo.owner);
  if (bytes.limit === 0) return;
  const used = await c.storage.ownerBytes(repo.owner, await c.storage.openUploads());
  if (used + adding > bytes.limit) throw overImageBytes(repo.owner, bytes, used);
}

/** A new tag must fit the owner's quota of images; pushing an existing tag again adds nothing. */
async function checkOwnerImages(c: ManifestContext, repo: FullName, tag: string) {
  const { images } = await c.quotas.imageLimits(repo.owner);
  if (images.limit === 0) return;
  // The same digest again is accepted, another one refused later as the tag's version is immutable.
  const held = await c.usage.images(repo.owner);
  const exists = held.some((i) => i.plugin === repo.name && i.version === tag);
  if (!exists && held.length >= images.limit) throw overImages(repo.owner, images, held.length);
}

/** The labels of the image a tag will run: the manifest's config, or for an index its linux/amd64 image's. */
async function labelsOf(c: ManifestContext, bytes: Uint8Array, contentType: string | undefined) {
  const parsed = parseManifest(bytes, contentType);
  let image = parsed;
  if (parsed.kind === "index") {
    const picked = pickPlatform(parsed.manifests);
    if (!picked) {
      throw imageError(
        Code.InvalidArgument,
        ImageFailure.InvalidManifest,
        "the index has no linux/amd64 image, the only platform plugins run on",
      );
    }
    image = parseManifest(await readContent(c.blobs, contentKey(hexOf(picked.digest))), picked.mediaType);
    if (image.kind !== "image")
      throw imageError(Code.InvalidArgument, ImageFailure.InvalidManifest, "an index inside an index");
  }
  if (image.kind !== "image") throw new Error("unreachable");
  const config = await readContent(c.blobs, contentKey(hexOf(image.config.digest)));
  return parseImageConfig(config).labels;
}

/** A tag is a plugin version: validate everything (semver, labels, immutability) before storing anything. */
async function pushTag(
  c: ManifestContext,
  principal: Principal,
  repo: FullName,
  tag: string,
  bytes: Uint8Array,
  contentType: string | undefined,
  digest: string,
) {
  await checkOwnerImages(c, repo, tag);
  let labels: Record<string, string>;
  try {
    labels = await labelsOf(c, bytes, contentType);
  } catch (err) {
    const e = RegistryError.from(err);
    throw new RegistryError(e.code, e.message, { reason: e.fields.reason ?? ImageFailure.InvalidManifest });
  }
  await c.storage.storeManifestBytes(repo, bytes);
  try {
    const input = { owner: repo.owner, name: repo.name, version: tag, digest, labels };
    const { version } = await c.plugins.pushImageVersion(principal, input);
    return { digest, version: version.version };
  } catch (err) {
    const e = RegistryError.from(err);
    if (e.code === Code.InvalidArgument && !e.fields.reason) {
      throw new RegistryError(e.code, e.message, { ...e.fields, reason: ImageFailure.InvalidTag });
    }
    if (e.code === Code.AlreadyExists) {
      throw new RegistryError(Code.AlreadyExists, e.message, {
        ...e.fields,
        reason: ImageFailure.TagTaken,
      });
    }
    throw err;
  }
}
