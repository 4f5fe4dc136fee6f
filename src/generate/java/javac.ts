// The javac step of Maven artifacts: generated Java sources → class files, compiled by the JDK inside the plugin
// sandbox (generated code is untrusted), in memory by CompileJava.java, with the runtime and dependency jars on
// the classpath.
import { Buffer } from "node:buffer";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  rmSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Code, isRegistryError, RegistryError } from "../../core/errors.js";
import { minimalBinds, resolveCommand } from "../../plugins/host/command.js";
import type { StdoutParts } from "../../plugins/sandbox/field-parts.js";
import type { Sandbox } from "../../plugins/sandbox/sandbox.js";
import type { GeneratedFile } from "../run-plugins.js";

// From src/generate/java/ and dist/generate/java/ alike: the helper is a source file, never compiled by tsc.
const helperSource = fileURLToPath(new URL("../../../src/generate/java/CompileJava.java", import.meta.url));

/** The bytecode level of generated jars: Java 8 is what protobuf-java 3.x itself targets. */
export const javaRelease = "8";

export interface JavaCompileInput {
  /** `.java` files by path (`demo/money/v1/MoneyOuterClass.java`). */
  sources: readonly GeneratedFile[];
  /** Jars on the classpath, beyond the runtime libraries: the dependency modules' own artifacts. */
  classpath: readonly Uint8Array[];
  /** Host paths of runtime library jars (protobuf-java), bound read-only into the sandbox. */
  runtimeJars: readonly string[];
  /** Who compiles what, for messages: `javac of demo/payments 1.1.1`. */
  label: string;
  signal?: AbortSignal;
}

export interface JavaCompiler {
  /** Removes the helper's copy in the temp dir. */
  close(): void;
  /**
   * The class files of the sources, sorted by path. Throws RegistryError: Unprocessable when the sources do not
   * compile (javac's messages in `details`), FailedPrecondition without a JDK, and the sandbox's errors (time,
   * memory, output).
   */
  compile(input: JavaCompileInput): Promise<GeneratedFile[]>;
}

export interface JavaCompilerOptions {
  sandbox: Sandbox;
  /** The `java` launcher: a command on PATH or an absolute path (default `java`). */
  java?: string;
}

/** The JDK of a `java` launcher and the host directories it needs inside the sandbox. */
export interface JavaRuntime {
  executable: string;
  /** The JDK's home and its configuration directories. */
  binds: string[];
}

/**
 * `/usr/bin/java` → the JDK's real launcher, its home (under /usr, already in the sandbox), and the directories its
 * `conf/` symlinks point at (Debian: /etc/java-17-openjdk), which the sandbox's /etc leaves out.
 */
export function findJavaRuntime(java = "java"): JavaRuntime | undefined {
  let executable: string;
  try {
    executable = realpathSync(resolveCommand([java]).executable);
  } catch {
    return undefined;
  }
  const home = dirname(dirname(executable));
  if (!existsSync(join(home, "lib", "modules"))) return undefined;
  const binds = [home];
  const walk = (dir: string, depth: number) => {
    if (depth > 3 || !existsSync(dir)) return;
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      const stat = lstatSync(path);
      if (stat.isSymbolicLink()) binds.push(dirname(resolve(dir, readlinkSync(path))));
      else if (stat.isDirectory()) walk(path, depth + 1);
    }
  };
  walk(join(home, "conf"), 0);
  return { executable, binds: minimalBinds(binds) };
}

const mib = 2 ** 20;

/** One frame list: an int count, then per item an int name length, the name, an int length, the bytes. */
export function encodeFrames(items: readonly { name: string; content: Uint8Array }[]): Buffer {
  const parts: Buffer[] = [int32(items.length)];
  for (const item of items) {
    const name = Buffer.from(item.name, "utf8");
    parts.push(int32(name.length), name, int32(item.content.byteLength), Buffer.from(item.content));
  }
  return Buffer.concat(parts);
}

/** Reads the frames CompileJava writes; anything short, overlong or trailing is the helper's fault. */
export function decodeFrames(bytes: Uint8Array): GeneratedFile[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (why: string): never => {
    throw new RegistryError(Code.Internal, `javac helper wrote unreadable output: ${why}`);
  };
  let at = 0;
  const readInt = () => {
    if (at + 4 > buf.length) fail("truncated");
    const v = buf.readInt32BE(at);
    at += 4;
    if (v < 0) fail("negative length");
    return v;
  };
  const readBytes = (n: number) => {
    if (at + n > buf.length) fail("truncated");
    const out = buf.subarray(at, at + n);
    at += n;
    return out;
  };
  const count = readInt();
  const files: GeneratedFile[] = [];
  for (let i = 0; i < count; i++) {
    const path = readBytes(readInt()).toString("utf8");
    files.push({ path, content: new Uint8Array(readBytes(readInt())) });
  }
  if (at !== buf.length) fail("trailing bytes");
  return files;
}

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

/**
 * The helper's source, copied to a fresh directory of the system temp dir: the sandbox runs as nobody, who may not
 * traverse the directories of a checkout (a home directory is often 0700).
 */
function copyHelper(): string {
  const dir = mkdtempSync(join(tmpdir(), "protodepot-javac-"));
  chmodSync(dir, 0o755);
  const path = join(dir, "CompileJava.java");
  copyFileSync(helperSource, path);
  chmodSync(path, 0o644);
  return path;
}

/** The JVM's flags for one compile whose run may use `memoryBytes`. */
function jvmFlags(memoryBytes: number): string[] {
  // The JVM sizes its heap from the machine's RAM otherwise, and would be killed by the run's memory limit
  // instead of failing with a readable OutOfMemoryError. Half the limit leaves room for metaspace, code and stacks.
  const heapMiB = Math.max(64, Math.floor(memoryBytes / 2 / mib));
  return [
    `-Xmx${heapMiB}m`,
    "-Xss4m",
    "-XX:MaxMetaspaceSize=256m",
    "-XX:ReservedCodeCacheSize=64m",
    // One GC thread and only the fast JIT: a compile is a short batch job, startup dominates it.
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    // No hsperfdata files in /tmp, no attach listener.
    "-XX:-UsePerfData",
    "-XX:+DisableAttachMechanism",
    "-Djava.io.tmpdir=/tmp",
    "-Duser.language=en",
  ];
}

const javacOptions = [
  "--release",
  javaRelease,
  "-encoding",
  "UTF-8",
  // No annotation processors: a jar on the classpath must not run code in the compiler.
  "-proc:none",
  "-nowarn",
  "-Xmaxerrs",
  "20",
];

/** The sandbox's errors reworded for a compile: javac's own failure is the generated code's fault. */
function compileError(err: unknown, label: string): unknown {
  if (!isRegistryError(err)) return err;
  // javac's own failure (exit 1, its messages in details) is the generated code's fault, not the server's.
  if (err.code === Code.Internal && /exited with code 1$/.test(err.message)) {
    return new RegistryError(
      Code.Unprocessable,
      `${label}: the generated Java sources do not compile`,
      err.fields,
      { cause: err },
    );
  }
  // The sandbox words its errors for plugins ("plugin X did not finish…").
  return new RegistryError(err.code, err.message.replace(/^plugin /, ""), err.fields, { cause: err });
}

export function createJavaCompiler(opts: JavaCompilerOptions): JavaCompiler {
  const { sandbox } = opts;
  let runtime: JavaRuntime | undefined | null = null;
  let helper: string | undefined;
  const flags = jvmFlags(sandbox.limits.memoryBytes);

  return {
    async compile(input) {
      if (runtime === null) runtime = findJavaRuntime(opts.java);
      if (!runtime) {
        throw new RegistryError(
          Code.FailedPrecondition,
          `${input.label} cannot be built: Maven jars are compiled on the server and no JDK was found (java on PATH; apt-get install default-jdk-headless)`,
        );
      }
      helper ??= copyHelper();
      const sources = [...input.sources].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
      if (sources.length === 0) return [];
      const stdin = Buffer.concat([
        encodeFrames(input.classpath.map((content, i) => ({ name: `${i}.jar`, content }))),
        encodeFrames(sources.map((s) => ({ name: s.path, content: s.content }))),
      ]);
      const binds = minimalBinds([...runtime.binds, dirname(helper), ...input.runtimeJars.map(dirname)]);
      let out: StdoutParts;
      try {
        out = await sandbox.run(
          {
            fs: { kind: "host", binds },
            executable: runtime.executable,
            args: [...flags, helper, input.runtimeJars.join(":"), ...javacOptions],
            env: { PATH: "/usr/bin:/bin", HOME: "/tmp", LANG: "C.UTF-8" },
            cwd: "/tmp",
          },
          { stdin, label: input.label, ...(input.signal ? { signal: input.signal } : {}) },
        );
      } catch (err) {
        throw compileError(err, input.label);
      }
      return decodeFrames(Buffer.concat(out));
    },
    close() {
      if (helper) rmSync(dirname(helper), { recursive: true, force: true });
      helper = undefined;
    },
  };
}
