// The sandboxed javac step and the jar around its output, on protoc's real Java output for the demo modules: the
// dependency's jar on the classpath, the result runs on the real JVM, and the bytes are the same every time.
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { Code, isRegistryError } from "../../core/errors.js";
import { createJar, jarManifest } from "../../packaging/jar.js";
import { isBwrapAvailable } from "../../plugins/sandbox/bwrap.js";
import { createSandbox } from "../../plugins/sandbox/sandbox.js";
import type { GeneratedFile } from "../run-plugins.js";
import { buildExamples, type Workspace } from "../testing/examples.js";
import { createJavaCompiler, decodeFrames, encodeFrames, findJavaRuntime } from "./javac.js";

const exec = promisify(execFile);
const protobufJar = "/usr/share/java/protobuf.jar";
const hasTools = () => {
  try {
    execFileSync("protoc", ["--version"]);
    return isBwrapAvailable() && findJavaRuntime() !== undefined && existsSync(protobufJar);
  } catch {
    return false;
  }
};

/** What protoc's built-in Java generator writes for one file of the image, by path. */
async function protocJava(ws: Workspace, dir: string, file: string): Promise<GeneratedFile[]> {
  const set = join(dir, "image.binpb");
  await writeFile(set, ws.image);
  const out = await mkdtemp(join(dir, "java-"));
  await exec("protoc", [`--descriptor_set_in=${set}`, `--java_out=${out}`, file]);
  const files: GeneratedFile[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else files.push({ path: relative(out, p), content: new Uint8Array(await readFile(p)) });
    }
  };
  await walk(out);
  return files;
}

const mib = 2 ** 20;
const limits = {
  timeoutMs: 60_000,
  memoryBytes: 1024 * mib,
  tmpBytes: 64 * mib,
  maxProcesses: 256,
  maxOutputBytes: 32 * mib,
  allowUnsandboxed: false,
};

describe("frames between the server and the javac helper", () => {
  it("round-trip names and bytes, and refuse truncated or trailing data", () => {
    const items = [
      { name: "a/B.class", content: new Uint8Array([1, 2, 3]) },
      { name: "ü/€.class", content: new Uint8Array() },
    ];
    const bytes = encodeFrames(items);
    assert.deepEqual(
      decodeFrames(bytes).map((f) => [f.path, [...f.content]]),
      items.map((i) => [i.name, [...i.content]]),
    );
    assert.throws(() => decodeFrames(bytes.subarray(0, bytes.length - 1)), /truncated/);
    assert.throws(() => decodeFrames(Buffer.concat([bytes, Buffer.from([0])])), /trailing bytes/);
  });
});

describe("javac in the sandbox", {
  skip: !hasTools() && !process.env.CI && "protoc, bwrap, a JDK or libprotobuf-java is missing",
}, () => {
  let ws: Workspace;
  let dir: string;
  let money: GeneratedFile[];
  let payments: GeneratedFile[];
  const sandbox = createSandbox(limits);
  const compiler = createJavaCompiler({ sandbox });

  before(async () => {
    ws = await buildExamples();
    dir = await mkdtemp(join(tmpdir(), "protodepot-javac-test-"));
    money = await protocJava(ws, dir, "demo/money/v1/money.proto");
    payments = await protocJava(ws, dir, "demo/payments/v1/payments.proto");
  });
  after(async () => {
    compiler.close();
    sandbox.close();
    await ws.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  const compileMoney = () =>
    compiler.compile({
      sources: money,
      classpath: [],
      runtimeJars: [protobufJar],
      label: "javac of demo/money",
    });

  it("compiles a module against the dependency's jar into a jar the JVM runs", async () => {
    const moneyClasses = await compileMoney();
    assert.ok(moneyClasses.some((c) => c.path === "demo/money/v1/MoneyOuterClass$Money.class"));
    const moneyJar = await createJar(moneyClasses);
    const classes = await compiler.compile({
      sources: payments,
      classpath: [moneyJar],
      runtimeJars: [protobufJar],
      label: "javac of demo/payments",
    });
    // Only the module's own classes: the dependency's come from its jar.
    assert.ok(classes.length > 0 && classes.every((c) => c.path.startsWith("demo/payments/v1/Payments")));
    const paymentsJar = await createJar(classes);
    await writeFile(join(dir, "money.jar"), moneyJar);
    await writeFile(join(dir, "payments.jar"), paymentsJar);
    const main = `import demo.payments.v1.Payments.Payment;
import demo.money.v1.MoneyOuterClass.Money;
public class Main {
  public static void main(String[] args) throws Exception {
    Payment p = Payment.newBuilder().setId("p-1").setAmount(Money.newBuilder().setCurrencyCode("EUR").setUnits(12)).build();
    Payment back = Payment.parseFrom(p.toByteArray());
    System.out.println(back.getAmount().getCurrencyCode() + " " + back.getAmount().getUnits() + " " + p.toByteArray().length);
  }
}
`;
    await writeFile(join(dir, "Main.java"), main);
    const cp = [join(dir, "payments.jar"), join(dir, "money.jar"), protobufJar].join(":");
    const { stdout } = await exec("java", ["-cp", cp, join(dir, "Main.java")]);
    assert.equal(stdout.trim(), "EUR 12 14");
    // A jar the JDK's own tool reads, manifest first.
    const { stdout: listing } = await exec("jar", ["tf", join(dir, "payments.jar")]);
    assert.deepEqual(listing.split("\n").slice(0, 2), ["META-INF/", "META-INF/MANIFEST.MF"]);
    // The JDK's own tool extracts the manifest byte for byte.
    const extracted = await mkdtemp(join(dir, "extract-"));
    await exec("jar", ["xf", join(dir, "payments.jar"), "META-INF/MANIFEST.MF"], { cwd: extracted });
    const manifest = await readFile(join(extracted, "META-INF/MANIFEST.MF"), "utf8");
    assert.equal(manifest, jarManifest);
  });

  it("gives the same class files and jar bytes on every run", async () => {
    const a = await createJar(await compileMoney());
    const b = await createJar(await compileMoney());
    assert.deepEqual(Buffer.from(a), Buffer.from(b));
  });

  it("reports sources that do not compile as Unprocessable with javac's messages", async () => {
    const broken = [
      {
        path: "x/Broken.java",
        content: new TextEncoder().encode('package x; class Broken { int f() { return "s"; } }\n'),
      },
    ];
    await assert.rejects(
      compiler.compile({
        sources: broken,
        classpath: [],
        runtimeJars: [protobufJar],
        label: "javac of x/broken",
      }),
      (err: unknown) => {
        assert.ok(isRegistryError(err, Code.Unprocessable), String(err));
        assert.match(err.message, /javac of x\/broken: the generated Java sources do not compile/);
        assert.match(
          err.fields.details?.join("\n") ?? "",
          /incompatible types: String cannot be converted to int/,
        );
        return true;
      },
    );
  });

  it("stops a compile at the sandbox's time limit", async () => {
    const tight = createSandbox({ ...limits, timeoutMs: 300 });
    const slow = createJavaCompiler({ sandbox: tight });
    try {
      await assert.rejects(
        slow.compile({
          sources: payments,
          classpath: [],
          runtimeJars: [protobufJar],
          label: "javac of demo/payments",
        }),
        (err: unknown) =>
          isRegistryError(err, Code.DeadlineExceeded) &&
          /^javac of demo\/payments did not finish within 300 ms/.test(err.message),
      );
    } finally {
      slow.close();
      tight.close();
    }
  });

  it("refuses to compile without a JDK, saying which package brings one", async () => {
    const none = createJavaCompiler({ sandbox, java: "/nonexistent/java" });
    await assert.rejects(
      none.compile({
        sources: money,
        classpath: [],
        runtimeJars: [protobufJar],
        label: "javac of demo/money",
      }),
      (err: unknown) =>
        isRegistryError(err, Code.FailedPrecondition) &&
        /apt-get install default-jdk-headless/.test(err.message),
    );
  });
});

describe("deterministic jars", () => {
  it("sort entries in byte order with directories, after the manifest, whatever the input order", async () => {
    const files = [
      { path: "b/Z.class", content: new Uint8Array([1]) },
      { path: "B/a.class", content: new Uint8Array([2]) },
      { path: "a.properties", content: new Uint8Array([3]) },
    ];
    const a = await createJar(files);
    const b = await createJar([...files].reverse());
    assert.deepEqual(Buffer.from(a), Buffer.from(b));
    const names: string[] = [];
    // Central directory file headers: signature 0x02014b50, name length at +28, name at +46.
    const buf = Buffer.from(a);
    for (
      let i = buf.indexOf(Buffer.from([0x50, 0x4b, 1, 2]));
      i >= 0;
      i = buf.indexOf(Buffer.from([0x50, 0x4b, 1, 2]), i + 4)
    ) {
      names.push(buf.subarray(i + 46, i + 46 + buf.readUInt16LE(i + 28)).toString("utf8"));
    }
    assert.deepEqual(names, [
      "META-INF/",
      "META-INF/MANIFEST.MF",
      "B/",
      "B/a.class",
      "a.properties",
      "b/",
      "b/Z.class",
    ]);
  });

  it("refuse unclean paths, duplicates and META-INF from generated output", async () => {
    const one = new Uint8Array([1]);
    for (const path of ["../x.class", "/x.class", "a//b.class", "META-INF/MANIFEST.MF", "meta-inf/x"]) {
      await assert.rejects(
        createJar([{ path, content: one }]),
        (err: unknown) => isRegistryError(err, Code.Unprocessable),
        path,
      );
    }
    await assert.rejects(
      createJar([
        { path: "a", content: one },
        { path: "a", content: one },
      ]),
      /appears twice/,
    );
    await assert.rejects(
      createJar([
        { path: "a", content: one },
        { path: "a/b", content: one },
      ]),
      /both a file and a directory/,
    );
  });
});
