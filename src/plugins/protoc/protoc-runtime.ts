// Runs protoc's built-in generators (python, java, …) as plugins: the request's files become a descriptor set that
// Debian's protoc reads with --descriptor_set_in, inside the same sandbox and limits as every other plugin.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { create, toBinary } from "@bufbuild/protobuf";
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { CodeGeneratorResponse_Feature } from "@bufbuild/protobuf/wkt";
import semver from "semver";
import { Code, RegistryError } from "../../core/errors.js";
import { type ProtocGenerator, protocGenerators } from "../../core/types.js";
import { PluginResponseSchema } from "../../gen/protodepot/plugin/v1/response_pb.js";
import { readTarGz } from "../../packaging/tar.js";
import type { PluginRun, PluginRuntime } from "../runtime.js";
import type { StdoutParts } from "../sandbox/field-parts.js";
import type { Sandbox } from "../sandbox/sandbox.js";

const exec = promisify(execFile);

/** The protoc this server runs built-in generators with. */
export interface Protoc {
  /** Absolute path, e.g. /usr/bin/protoc. */
  path: string;
  /** `3.21.12`, from `protoc --version`. */
  version: string;
}

/** protoc on PATH (or at `path`) and its version; undefined when it is missing or does not answer --version. */
export async function detectProtoc(path = "protoc"): Promise<Protoc | undefined> {
  try {
    const { stdout } = await exec(path, ["--version"], { timeout: 5000 });
    const version = semver.coerce(stdout.trim().split(/\s+/).pop() ?? "")?.version;
    if (!version) return undefined;
    const { stdout: resolved } = path.startsWith("/")
      ? { stdout: path }
      : await exec("/bin/sh", ["-c", 'command -v "$1"', "sh", path], { timeout: 5000 });
    return { path: resolved.trim(), version };
  } catch {
    return undefined;
  }
}

export function isProtocGenerator(name: string): name is ProtocGenerator {
  return (protocGenerators as readonly string[]).includes(name);
}

/**
 * Inside the sandbox: the descriptor set arrives on stdin (into the private /tmp), the generated tree leaves as a .tar.gz on stdout after a
 * one-line status, so that protoc's own complaint (a generator error, not a crash) becomes the response's error.
 * Arguments: $1 protoc, $2 generator, $3 parameter, $4… files to generate; none of them pass through the shell.
 */
const script = [
  "set -u",
  'protoc="$1" gen="$2" param="$3"',
  "shift 3",
  // A fresh directory even in bwrap's private /tmp: without bwrap (plugins.allowUnsandboxed) /tmp is the host's.
  "dir=$(mktemp -d) || exit 1",
  `trap 'rm -rf "$dir"' EXIT`,
  'mkdir "$dir/out"',
  // A file, not /dev/stdin: protoc may stat or reopen the set, which a pipe does not allow.
  'cat > "$dir/set.binpb"',
  'if [ -n "$param" ]; then set -- "--$gen"_opt="$param" "$@"; fi',
  'if "$protoc" --descriptor_set_in="$dir/set.binpb" "--$gen"_out="$dir/out" "$@" 2>"$dir/err"; then',
  '  echo ok && cd "$dir/out" && tar -cz --owner=0 --group=0 --numeric-owner .',
  "else",
  '  echo error && head -c 65536 "$dir/err"',
  "fi",
].join("\n");

/** Every built-in of protoc 3.21 handles proto3 optional; none handles editions (protoc ≥ 27). */
const supportedFeatures = BigInt(CodeGeneratorResponse_Feature.PROTO3_OPTIONAL);

export function createProtocRuntime(sandbox: Sandbox, protoc: Protoc | undefined): PluginRuntime {
  return {
    async run(input: PluginRun): Promise<StdoutParts> {
      const plugin = input.label;
      const source = input.source;
      if (source.kind !== "protoc") {
        throw new RegistryError(Code.Internal, `plugin ${plugin} is not a protoc built-in`, { plugin });
      }
      if (!protoc) {
        throw new RegistryError(
          Code.FailedPrecondition,
          `plugin ${plugin} cannot run: protoc is not installed on this server (apt-get install protobuf-compiler)`,
          { plugin },
        );
      }
      // Another protoc would give other bytes for a version that must always give the same ones.
      if (source.version !== protoc.version) {
        throw new RegistryError(
          Code.FailedPrecondition,
          `plugin ${plugin} needs protoc ${source.version}, but this server has protoc ${protoc.version}: ` +
            "use a version of the plugin registered for it",
          { plugin },
        );
      }
      if (!isProtocGenerator(source.generator)) {
        throw new RegistryError(
          Code.Internal,
          `plugin ${plugin}: unknown protoc generator ${source.generator}`,
          {
            plugin,
          },
        );
      }
      const { request, set } = descriptorSetOf(
        input.request instanceof Uint8Array ? input.request : Buffer.concat(input.request),
      );
      const out = await sandbox.run(
        {
          fs: { kind: "host", binds: [] },
          executable: "/bin/sh",
          args: [
            "-c",
            script,
            "sh",
            protoc.path,
            source.generator,
            request.parameter,
            ...request.fileToGenerate,
          ],
          env: { PATH: "/usr/bin:/bin", HOME: "/tmp" },
          cwd: "/tmp",
        },
        { stdin: set, label: plugin, ...(input.signal ? { signal: input.signal } : {}) },
      );
      return [toBinary(PluginResponseSchema, await responseOf(plugin, Buffer.concat(out)))];
    },
  };
}

/** CodeGeneratorRequest fields (google/protobuf/compiler/plugin.proto) and FileDescriptorSet.file. */
const reqFileToGenerate = 1;
const reqParameter = 2;
const reqProtoFile = 15;
const setFile = 1;

/**
 * The request's files to generate and parameter, and its proto_file (well-known types included) re-tagged as a
 * FileDescriptorSet, without decoding a descriptor: a large module's files pass through as the bytes they are.
 */
export function descriptorSetOf(bytes: Uint8Array): {
  request: { fileToGenerate: string[]; parameter: string };
  set: Uint8Array;
} {
  const request = { fileToGenerate: [] as string[], parameter: "" };
  const set = new BinaryWriter();
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [no, wire] = reader.tag();
    if (wire !== WireType.LengthDelimited) reader.skip(wire, no);
    else if (no === reqFileToGenerate) request.fileToGenerate.push(reader.string());
    else if (no === reqParameter) request.parameter = reader.string();
    else if (no === reqProtoFile) set.tag(setFile, WireType.LengthDelimited).bytes(reader.bytes());
    else reader.skip(wire, no);
  }
  return { request, set: set.finish() };
}

async function responseOf(plugin: string, out: Uint8Array) {
  const newline = out.indexOf(0x0a);
  const status = new TextDecoder().decode(out.subarray(0, Math.max(newline, 0)));
  const rest = out.subarray(newline + 1);
  if (status === "error") {
    const message = new TextDecoder()
      .decode(rest)
      .trim()
      .replace(/^--\w+_out: /gm, "");
    return create(PluginResponseSchema, {
      error: message || "protoc failed without a message",
      supportedFeatures,
    });
  }
  if (status !== "ok") {
    throw new RegistryError(Code.Internal, `plugin ${plugin}: protoc's wrapper wrote no status line`, {
      plugin,
    });
  }
  let entries: Awaited<ReturnType<typeof readTarGz>>;
  try {
    entries = await readTarGz(rest);
  } catch (err) {
    throw new RegistryError(
      Code.Internal,
      `plugin ${plugin}: protoc's output could not be read back: ${err instanceof Error ? err.message : String(err)}`,
      { plugin },
      { cause: err },
    );
  }
  // CodeGeneratorResponse's wire format with content as bytes: PHP's output embeds descriptors as raw bytes that are
  // not UTF-8, and they reach the package exactly as protoc wrote them.
  const file = entries
    .map((e) => ({ name: e.path.replace(/^\.\//, ""), content: e.content }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return create(PluginResponseSchema, { supportedFeatures, file });
}
