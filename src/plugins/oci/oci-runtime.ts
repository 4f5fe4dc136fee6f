// Runs pushed plugin images: the linux/amd64 manifest, its layers unpacked once into a cached root, run in the sandbox.
import { createHash } from "node:crypto";
import { type Readable, Transform } from "node:stream";
import { createCache } from "../../core/cache.js";
import { Code, RegistryError } from "../../core/errors.js";
import {
  type Descriptor,
  type ImageConfig,
  parseImageConfig,
  parseManifest,
  pickPlatform,
} from "../../core/oci.js";
import type { BlobStore } from "../../storage/blob/blob-store.js";
import { readContent } from "../../storage/blob/content.js";
import { contentKey } from "../../storage/blob/paths.js";
import type { PluginRun, PluginRuntime } from "../runtime.js";
import type { StdoutParts } from "../sandbox/field-parts.js";
import type { Sandbox } from "../sandbox/sandbox.js";
import type { Rootfs, RootfsCache } from "./rootfs-cache.js";
import { unreachableAncestor } from "./rootfs-dir.js";
import { LayerError } from "./unpack.js";

export interface OciRuntimeOptions {
  sandbox: Sandbox;
  blobs: BlobStore;
  rootfs: RootfsCache;
  log?: { warn(fields: object, message: string): void };
}

interface ResolvedImage {
  /** Digest of the image manifest (for an index: of its linux/amd64 entry); the rootfs cache key. */
  manifestDigest: string;
  layers: Descriptor[];
  config: ImageConfig;
}

/** What the image's own ENV does not set: a PATH for entrypoints given by name, and a writable HOME. */
const defaultEnv = { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: "/tmp" };

/** Reads an image's manifest (an index resolves to linux/amd64) and config from the content store. */
async function resolveImage(
  blobs: OciRuntimeOptions["blobs"],
  digest: string,
  plugin: string,
): Promise<ResolvedImage> {
  const read = (d: string) => readContent(blobs, contentKey(d.replace(/^sha256:/, "")));
  let manifestDigest = digest;
  let manifest = parseManifest(await read(digest));
  if (manifest.kind === "index") {
    const picked = pickPlatform(manifest.manifests);
    if (!picked) {
      const platforms = manifest.manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}`);
      throw new RegistryError(
        Code.FailedPrecondition,
        `plugin ${plugin} has no linux/amd64 image (platforms: ${platforms.join(", ") || "none"})`,
        { plugin },
      );
    }
    manifestDigest = picked.digest;
    manifest = parseManifest(await read(picked.digest), picked.mediaType);
    if (manifest.kind !== "image") {
      throw new RegistryError(Code.FailedPrecondition, `plugin ${plugin}: an index inside an index`, {
        plugin,
      });
    }
  }
  const config = parseImageConfig(await read(manifest.config.digest));
  if (config.argv.length === 0) {
    throw new RegistryError(
      Code.FailedPrecondition,
      `plugin ${plugin} cannot run: its image sets neither ENTRYPOINT nor CMD`,
      { plugin },
    );
  }
  return { manifestDigest, layers: manifest.layers, config };
}

/** Openers of the layers' bytes, each checked against its descriptor's size and digest as it is read. */
function layerOpeners(
  blobs: OciRuntimeOptions["blobs"],
  layers: readonly Descriptor[],
  plugin: string,
): (() => Promise<Readable>)[] {
  return layers.map((d) => async (): Promise<Readable> => {
    const key = contentKey(d.digest.replace(/^sha256:/, ""));
    const stat = await blobs.stat(key);
    const stream = stat && (await blobs.get(key));
    if (!stream) throw new RegistryError(Code.Internal, `layer ${d.digest} of plugin ${plugin} is missing`);
    if (stat.size !== d.size) {
      stream.destroy();
      throw new LayerError(`layer ${d.digest} is ${stat.size} bytes, but the manifest says ${d.size}`);
    }
    return stream.pipe(verified(d)).once("error", () => stream.destroy());
  });
}

/** The image's unpacked root; an image that cannot be unpacked is the plugin's problem, not the server's. */
async function acquireRoot(
  cache: RootfsCache,
  image: ResolvedImage,
  open: (() => Promise<Readable>)[],
  plugin: string,
): Promise<Rootfs> {
  try {
    return await cache.acquire(image.manifestDigest, open);
  } catch (err) {
    if (!(err instanceof LayerError)) throw err;
    throw new RegistryError(
      Code.FailedPrecondition,
      `plugin ${plugin}: its image cannot be unpacked: ${err.message}`,
      { plugin },
      { cause: err },
    );
  }
}

export function createOciRuntime(opts: OciRuntimeOptions): PluginRuntime {
  const blocked = unreachableAncestor(opts.rootfs.dir, opts.sandbox.hostUid);
  if (blocked) {
    opts.log?.warn(
      { rootfsDir: opts.rootfs.dir, blocked },
      "image plugins cannot run: the sandbox user cannot reach oci.rootfsDir (chmod o+x the directory named)",
    );
  }
  // Manifests and configs are immutable by digest: resolve each pushed digest once (a failure is tried again).
  const resolved = createCache<ResolvedImage>({ bound: { maxEntries: 1000 } });

  return {
    async run(input: PluginRun): Promise<StdoutParts> {
      const plugin = input.label;
      if (input.source.kind !== "oci") {
        throw new RegistryError(Code.Internal, `plugin ${plugin} is not an image`, { plugin });
      }
      if (blocked) {
        throw new RegistryError(
          Code.FailedPrecondition,
          `plugin ${plugin} cannot run: the sandbox user (uid ${opts.sandbox.hostUid}) cannot reach ` +
            `${opts.rootfs.dir} because ${blocked} is not searchable; chmod o+x ${blocked} or set oci.rootfsDir`,
          { plugin },
        );
      }
      const digest = input.source.digest;
      const image = await resolved.load(digest, () => resolveImage(opts.blobs, digest, plugin));
      const rootfs = await acquireRoot(
        opts.rootfs,
        image,
        layerOpeners(opts.blobs, image.layers, plugin),
        plugin,
      );
      try {
        const [executable, ...args] = image.config.argv as [string, ...string[]];
        return await opts.sandbox.run(
          {
            fs: { kind: "rootfs", root: rootfs.root },
            executable,
            args,
            env: { ...defaultEnv, ...image.config.env },
            cwd: image.config.workingDir,
          },
          { stdin: input.request, label: plugin, ...(input.signal ? { signal: input.signal } : {}) },
        );
      } finally {
        rootfs.release();
      }
    },
  };
}

/** Passes a layer's bytes through and fails unless they are exactly the descriptor's size and digest. */
function verified(d: Descriptor): Transform {
  const hash = createHash("sha256");
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen > d.size) {
        cb(new LayerError(`layer ${d.digest} is longer than the ${d.size} bytes its manifest says`));
        return;
      }
      hash.update(chunk);
      cb(null, chunk);
    },
    flush(cb) {
      const actual = `sha256:${hash.digest("hex")}`;
      if (seen !== d.size)
        cb(new LayerError(`layer ${d.digest} is ${seen} bytes, but the manifest says ${d.size}`));
      else if (actual !== d.digest)
        cb(new LayerError(`layer ${d.digest} does not match its digest (it is ${actual})`));
      else cb();
    },
  });
}
