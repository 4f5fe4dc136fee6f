// `protodepot plugin push OWNER/NAME:VERSION --binary PATH`: a minimal image built here, pushed through /v2/.
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { ecosystemLabelKey, isPluginEcosystem, pluginEcosystems } from "../../core/plugin-ecosystem.js";
import { buildBinaryImage, runtimeLibraryLabels } from "../../packaging/oci-image.js";
import { openRemote, type RemoteOptions } from "../client.js";
import { parseRuntimeLib } from "../runtime-lib.js";

export interface PushFlags extends RemoteOptions {
  binary: string;
  runtimeLib: string[];
  ecosystem?: string;
}

/** `acme/protoc-gen-x:v1.2.3` → repository and tag. */
export function parseImageRef(text: string): { repository: string; tag: string } {
  const m = /^([a-z0-9-]+\/[a-z0-9-]+):(v[^:/@]+)$/.exec(text);
  if (!m?.[1] || !m[2])
    throw new Error(`invalid plugin "${text}": use OWNER/NAME:VERSION, e.g. acme/go:v1.2.3`);
  return { repository: m[1], tag: m[2] };
}

async function failure(res: Response, what: string): Promise<Error> {
  const text = await res.text();
  let message = text;
  try {
    const body = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    message = body.errors?.map((e) => `${e.code}: ${e.message}`).join("; ") || text;
  } catch {
    // Not the registry's error format; show it as it came.
  }
  return new Error(`${what} failed (HTTP ${res.status}): ${message}`);
}

/** Checked here too, so a typo fails before a binary is uploaded. */
export function checkEcosystem(value: string): string {
  if (!isPluginEcosystem(value))
    throw new Error(`--ecosystem ${value}: use one of ${pluginEcosystems.join(", ")}`);
  return value;
}

export async function pushPlugin(ref: string, flags: PushFlags): Promise<string> {
  const { repository, tag } = parseImageRef(ref);
  const remote = await openRemote(flags);
  if (!remote.token) throw new Error("pushing needs a token: pass --token or run 'protodepot login'");
  const image = await buildBinaryImage({
    name: basename(flags.binary),
    binary: new Uint8Array(await readFile(flags.binary)),
    labels: {
      ...runtimeLibraryLabels(flags.runtimeLib.map(parseRuntimeLib)),
      ...(flags.ecosystem ? { [ecosystemLabelKey]: checkEcosystem(flags.ecosystem) } : {}),
    },
  });
  const authorization = `Basic ${Buffer.from(`protodepot:${remote.token}`).toString("base64")}`;
  const v2 = (path: string, init: RequestInit = {}) =>
    fetch(`${remote.url}/v2/${repository}/${path}`, {
      ...init,
      headers: { authorization, ...(init.headers as Record<string, string> | undefined) },
    });
  for (const blob of image.blobs) {
    // Already there (an earlier push of the same binary): nothing to send.
    if ((await v2(`blobs/${blob.digest}`, { method: "HEAD" })).status === 200) continue;
    const res = await v2(`blobs/uploads/?digest=${blob.digest}`, {
      method: "POST",
      body: blob.bytes,
      headers: { "content-type": "application/octet-stream" },
    });
    if (res.status !== 201) throw await failure(res, `uploading ${blob.digest}`);
  }
  const res = await v2(`manifests/${tag}`, {
    method: "PUT",
    body: image.manifest.bytes,
    headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
  });
  if (res.status !== 201) throw await failure(res, `pushing ${repository}:${tag}`);
  return image.manifest.digest;
}
