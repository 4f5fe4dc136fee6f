// e2e: exclusive — times /healthz and bounds the server's memory while a plugin floods its output
// Hostile plugin OUTPUT (docs/serving.md, "Merging plugin output"): a stranger's public plugin, run through a public
// template by an anonymous download, can neither stall the server, grow its memory past the budget, nor flood a
// response or the log. The plugin is a static Go program built here and pushed by an ordinary user as an image.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { gunzipSync } from "node:zlib";
import { cliOk } from "./support/cli.js";
import { pollHealthz } from "./support/healthz-poller.js";
import { adminToken, makeDataDir, repoRoot, startTestServer, type TestServer } from "./support/server.js";

const exec = promisify(execFile);
const mib = 2 ** 20;
/** The server's peak RSS over this whole file (docs/serving.md: the budget of one hostile generation). */
const rssBudgetBytes = 512 * mib;

/** The plugin: the parameter picks what it writes, as a hand-encoded CodeGeneratorResponse. */
const hostileGo = `// A hostile protoc plugin: the parameter picks what it writes (hand-encoded CodeGeneratorResponse).
package main

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"strings"
)

func uvarint(b []byte) (uint64, int) {
	var v uint64
	for i, c := range b {
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return v, i + 1
		}
	}
	return 0, len(b)
}

func parameter(req []byte) string {
	for len(req) > 0 {
		tag, n := uvarint(req)
		req = req[n:]
		switch tag & 7 {
		case 0:
			_, n = uvarint(req)
			req = req[n:]
		case 2:
			l, n := uvarint(req)
			body := req[n : n+int(l)]
			req = req[n+int(l):]
			if tag>>3 == 2 {
				return string(body)
			}
		default:
			return ""
		}
	}
	return ""
}

func varint(w *bufio.Writer, v uint64) {
	for v >= 0x80 {
		w.WriteByte(byte(v) | 0x80)
		v >>= 7
	}
	w.WriteByte(byte(v))
}

func field(w *bufio.Writer, no int, b []byte) {
	varint(w, uint64(no<<3|2))
	varint(w, uint64(len(b)))
	w.Write(b)
}

func file(w *bufio.Writer, name, point string, content []byte) {
	var buf bytes.Buffer
	bw := bufio.NewWriter(&buf)
	field(bw, 1, []byte(name))
	if point != "" {
		field(bw, 2, []byte(point))
	}
	field(bw, 15, content)
	bw.Flush()
	field(w, 15, buf.Bytes())
}

func main() {
	req, _ := io.ReadAll(os.Stdin)
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer w.Flush()
	w.WriteByte(2 << 3) // supported_features: proto3 optional
	varint(w, 1)
	const mib = 1 << 20
	switch mode := parameter(req); mode {
	case "amplify":
		// Ten files of one line: 1 MiB of tabs and a marker; 500 newlines inserted into each.
		line := append(bytes.Repeat([]byte("\\t"), mib), "@@protoc_insertion_point(x)\\n"...)
		for i := 0; i < 10; i++ {
			file(w, "amp"+string(rune('0'+i))+".txt", "", line)
		}
		for i := 0; i < 10; i++ {
			file(w, "amp"+string(rune('0'+i))+".txt", "x", bytes.Repeat([]byte("\\n"), 500))
		}
	case "loop", "loop-past":
		// A 16 MiB file, then one-byte insertions: 10,000 (the default cap), or one more.
		body := append(bytes.Repeat([]byte("a\\n"), 8*mib), "// @@protoc_insertion_point(x)\\n"...)
		file(w, "loop.txt", "", body)
		n := 10000
		if mode == "loop-past" {
			n++
		}
		for i := 0; i < n; i++ {
			file(w, "loop.txt", "x", []byte("1"))
		}
	case "error":
		field(w, 1, []byte(strings.Repeat("E", 60*mib)))
	}
}
`;

/** Content-addressed blobs stored so far: a failed generation adds none. */
const storedBlobs = (dataDir: string) =>
  readdirSync(dataDir, { recursive: true, encoding: "utf8" }).filter((p) =>
    /sha256\/[0-9a-f]{2}\/[0-9a-f]{64}$/.test(p),
  ).length;

/** Peak resident memory of a process since it started, read by the kernel. */
const peakRss = (pid: number) =>
  Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) * 1024;

describe("hostile plugin output, anonymously triggered", () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;
  let work: string;
  let probe: ReturnType<typeof pollHealthz>;
  let idle: number[] = [];

  before(async () => {
    data = await makeDataDir();
    work = await mkdtemp(join(tmpdir(), "protodepot-hostile-output-"));
    await mkdir(join(work, "plugin"));
    await writeFile(join(work, "plugin", "main.go"), hostileGo);
    await writeFile(join(work, "plugin", "go.mod"), "module hostile\n\ngo 1.19\n");
    const built = exec("go", ["build", "-o", join(work, "hostile"), "."], {
      cwd: join(work, "plugin"),
      env: { ...process.env, CGO_ENABLED: "0" },
    });
    server = await startTestServer({ orgs: ["demo"], dataDir: data.dir });
    const admin = {
      PROTODEPOT_REMOTE: server.url,
      PROTODEPOT_TOKEN: adminToken,
      XDG_CONFIG_HOME: join(work, "a"),
    };
    await cliOk(["push", join(repoRoot, "examples/money")], admin);
    await cliOk(["user", "create", "bob"], admin);
    const token = (await cliOk(["token", "create", "--user", "bob"], admin)).stdout.trim();
    const bob = { ...admin, PROTODEPOT_TOKEN: token, XDG_CONFIG_HOME: join(work, "b") };
    await built;
    await cliOk(["plugin", "push", "bob/hostile:v1.0.0", "--binary", join(work, "hostile")], bob);
    for (const mode of ["amplify", "loop", "loop-past", "error"]) {
      const config = JSON.stringify({ plugins: [{ owner: "bob", name: "hostile", parameter: mode }] });
      await cliOk(["template", "create", `bob/${mode}`, "--config", config], bob);
      const pins = JSON.stringify({
        plugin_versions: [{ owner: "bob", name: "hostile", version: "v1.0.0" }],
      });
      await cliOk(["template", "version", "create", `bob/${mode}`, "--config", pins], bob);
    }
    // The same probe on the idle server first: what this machine's scheduling alone costs an answer.
    const control = pollHealthz(server.url);
    await new Promise((r) => setTimeout(r, 3000));
    idle = (await control.stop()).slice(5);
    probe = pollHealthz(server.url);
  });
  after(async () => {
    await server?.stop();
    await data?.remove();
    await rm(work, { recursive: true, force: true });
  });

  const archive = (mode: string) => `${server.url}/v1/bob/${mode}/v1/demo/money/main.tar.gz`;

  /** An anonymous download, twice: both refused the same way, with a bounded body; nothing stored. */
  const refused = async (mode: string, message: RegExp) => {
    const blobs = storedBlobs(data.dir);
    const first = await fetch(archive(mode));
    const body = await first.text();
    assert.equal(first.status, 422, body.slice(0, 500));
    assert.match(body, message);
    assert.ok(body.length < 4096 + 256, `a ${body.length}-byte error body`);
    const again = await fetch(archive(mode));
    assert.equal(again.status, 422);
    assert.equal(await again.text(), body);
    assert.equal(storedBlobs(data.dir), blobs, "a failed generation stores nothing");
  };

  it("insertion-point amplification: refused at plugins.maxOutputBytes before anything is built", async () => {
    // Ten 1 MiB lines of tabs, 500 newlines inserted into each: every inserted line gets the 1 MiB indent.
    await refused(
      "amplify",
      /^plugin bob\/hostile:v1\.0\.0 brought generated files to \d+ bytes, over 67108864 \(plugins\.maxOutputBytes\)\n$/,
    );
  });

  it("an insertion loop: 10,000 one-byte insertions into a 16 MiB file merge; one more is refused", async () => {
    const res = await fetch(archive("loop"));
    const tar = gunzipSync(Buffer.from(await res.arrayBuffer()));
    assert.equal(res.status, 200, tar.subarray(0, 500).toString());
    // protoc's order: every insertion lands before the marker, after the ones before it.
    assert.ok(tar.includes(`a\n${"1\n".repeat(10_000)}// @@protoc_insertion_point(x)\n`));
    await refused(
      "loop-past",
      /^plugin bob\/hostile:v1\.0\.0 made more than 10000 insertions into generated files \(plugins\.maxInsertions\)\n$/,
    );
  });

  it("60 MiB of error text: the first 4 KiB and a marker, in the response and in the log", async () => {
    await refused(
      "error",
      /^plugin bob\/hostile:v1\.0\.0 failed: E{4096}… \[truncated, 62914560 bytes in all\]\n$/,
    );
    assert.ok(!server.output().includes("E".repeat(4097)), "the log holds no more of it than the response");
  });

  it("meanwhile /healthz answered every 50 ms within 100 ms, and the server stayed within its memory budget", async () => {
    const samples = await probe.stop();
    // The first answers open the connection and warm the route up.
    const judged = samples.slice(5);
    assert.ok(judged.length > 20, `only ${judged.length} samples`);
    const slowest = Math.max(...judged);
    const rss = peakRss(server.child.pid ?? 0);
    const idleMax = Math.max(...idle);
    process.stdout.write(
      `# hostile output: /healthz max ${slowest.toFixed(1)} ms over ${judged.length} samples ` +
        `(idle server: ${idleMax.toFixed(1)} ms), server peak RSS ${(rss / mib).toFixed(0)} MiB\n`,
    );
    assert.ok(rss < rssBudgetBytes, `peak RSS ${(rss / mib).toFixed(0)} MiB`);
    // 100 ms on a machine with a core to spare (CI); on an oversubscribed one the idle server's own answers
    // are that slow, so the bar becomes what the machine allows: twice the idle server's slowest, plus 100 ms.
    const oversubscribed = (loadavg()[0] ?? 0) > availableParallelism();
    const bar = oversubscribed ? 2 * idleMax + 100 : 100;
    assert.ok(
      slowest < bar,
      `/healthz took ${slowest.toFixed(1)} ms, over ${bar.toFixed(0)} (samples: ${judged.map(Math.round).join(" ")})`,
    );
  });
});
