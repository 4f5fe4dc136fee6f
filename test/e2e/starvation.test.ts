// e2e: exclusive — counts the plugin slots each payer holds while strangers flood cold generations
// Strangers cannot starve the registry's plugin slots (docs/serving.md, *Plugin slots*): a user and their
// organization flood anonymous cold generations of slow pushed plugins, and a signed-in user's cold generation
// still runs at once; a failing URL, repeated, is answered from memory without running its plugin.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { cliOk } from "./support/cli.js";
import { goBinary } from "./support/go.js";
import { pluginRuns } from "./support/metrics.js";
import { copyModule } from "./support/modules.js";
import { childCommandLines } from "./support/processes.js";
import {
  adminToken,
  callApi,
  makeDataDir,
  repoRoot,
  startTestServer,
  type TestServer,
} from "./support/server.js";

/**
 * A protoc plugin in Go, no dependencies: parameter `sleep=MS` sleeps, then writes one file; `fail` answers with
 * an error. It reads CodeGeneratorRequest's field 2 (parameter) by hand and writes the response by hand.
 */
const pluginSource = `package main

import (
	"io"
	"os"
	"strings"
	"time"
)

func varint(b []byte, i int) (uint64, int) {
	var v uint64
	for shift := uint(0); i < len(b); shift += 7 {
		c := b[i]
		i++
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			break
		}
	}
	return v, i
}

func field(num byte, s string) []byte {
	return append([]byte{num<<3 | 2, byte(len(s))}, s...)
}

func main() {
	in, _ := io.ReadAll(os.Stdin)
	param := ""
	for i := 0; i < len(in); {
		key, n := varint(in, i)
		i = n
		switch key & 7 {
		case 0:
			_, i = varint(in, i)
		case 1:
			i += 8
		case 5:
			i += 4
		case 2:
			l, n := varint(in, i)
			if key>>3 == 2 {
				param = string(in[n : n+int(l)])
			}
			i = n + int(l)
		default:
			os.Exit(2)
		}
	}
	if param == "fail" {
		os.Stdout.Write(field(1, "this plugin always fails"))
		return
	}
	ms := 0
	for _, c := range strings.TrimPrefix(param, "sleep=") {
		ms = ms*10 + int(c-'0')
	}
	time.Sleep(time.Duration(ms) * time.Millisecond)
	file := append(field(1, "slow.txt"), field(15, "slept")...)
	os.Stdout.Write(append([]byte{15<<3 | 2, byte(len(file))}, file...))
}
`;

describe("starvation: who pays for plugin slots", () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;
  let work: string;
  let admin: Record<string, string>;
  let aliceToken = "";
  const modules = ["m-a", "m-b", "m-c"];

  before(async () => {
    data = await makeDataDir();
    work = await mkdtemp(join(tmpdir(), "protodepot-starve-"));
    const binary = join(work, "protoc-gen-slow");
    await writeFile(join(work, "main.go"), pluginSource);
    await writeFile(join(work, "go.mod"), "module example.com/slow\n\ngo 1.19\n");
    const build = promisify(execFile)(goBinary, ["build", "-o", binary, "."], {
      cwd: work,
      env: { ...process.env, CGO_ENABLED: "0", GOFLAGS: "", GOTOOLCHAIN: "local" },
    });
    // Four slots, at most three charged to one payer, two to every anonymous caller together (the defaults).
    server = await startTestServer({
      orgs: ["demo"],
      dataDir: data.dir,
      env: { PROTODEPOT_PLUGINS_CONCURRENCY: "4" },
    });
    admin = {
      PROTODEPOT_REMOTE: server.url,
      PROTODEPOT_TOKEN: adminToken,
      XDG_CONFIG_HOME: join(work, "cfg"),
    };
    // Setup over the management API where a CLI process would only add its start-up time.
    const api = async (method: string, body: unknown, token: string) => {
      const res = await callApi(server.url, method, body, token);
      const text = await res.text();
      assert.equal(res.status, 200, `${method}: ${text}`);
      return JSON.parse(text) as Record<string, unknown>;
    };
    const tokens: Record<string, string> = {};
    for (const name of ["alice", "bob"]) {
      await api("UserService/CreateUser", { name }, adminToken);
      tokens[name] = String((await api("UserService/CreateToken", { user: name }, adminToken)).token);
    }
    aliceToken = tokens.alice ?? "";
    const bobToken = tokens.bob ?? "";
    const bob = { ...admin, PROTODEPOT_TOKEN: bobToken };
    await api("OrganizationService/CreateOrganization", { name: "bobx" }, bobToken);
    await Promise.all([
      ...modules.map(async (m) =>
        cliOk(
          ["push", await copyModule(join(repoRoot, "examples/money"), join(work, m), `demo/${m}`)],
          admin,
        ),
      ),
      // bob and his organization each push a slow plugin, once it is built.
      build.then(() =>
        Promise.all(
          ["bob", "bobx"].map((owner) =>
            cliOk(["plugin", "push", `${owner}/slow:v1.0.0`, "--binary", binary], bob),
          ),
        ),
      ),
    ]);
    // Two templates each (and one that always fails), public by default.
    for (const [owner, name] of [
      ["bob", "s1"],
      ["bob", "s2"],
      ["bobx", "s3"],
      ["bobx", "s4"],
      ["bob", "fail"],
    ] as const) {
      const parameter = name === "fail" ? "fail" : "sleep=4000";
      const template = `${owner}/${name}`;
      await api(
        "TemplateService/CreateTemplate",
        { template, plugins: [{ owner, name: "slow", parameter }] },
        bobToken,
      );
      const pins = [{ owner, name: "slow", version: "v1.0.0" }];
      await api("TemplateService/CreateTemplateVersion", { template, pluginVersions: pins }, bobToken);
    }
  });
  after(async () => {
    await server?.stop();
    await data?.remove();
    await rm(work, { recursive: true, force: true });
  });

  const get = async (url: string, token?: string) => {
    const res = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
  };
  /** alice's cold generation of a built-in template (protoc-gen-es) over one module. */
  const aliceCold = async (module: string) => {
    const { status, body } = await get(
      `${server.url}/v1/protodepot/es/v1/demo/${module}/main.tar.gz`,
      aliceToken,
    );
    assert.equal(status, 200, body.toString());
  };
  /** Plugin runs going now whose command line names `plugin`: each is a child of the server (its sandbox). */
  const runsOf = async (plugin: string) =>
    (await childCommandLines(server.child.pid ?? 0)).filter((cmd) => cmd.includes(plugin)).length;
  const pause = () => new Promise((r) => setTimeout(r, 5));

  it("an anonymous flood of a user's and their organization's slow plugins does not delay a signed-in user's cold generation", async () => {
    // A first cold run warms what every generation shares (the template and plugin lookups, the plugin's files).
    await aliceCold("m-a");
    // Twelve distinct cold artifacts, four seconds each: bob's two templates and bobx's two, three scopes each.
    let finished = 0;
    const flood = ["bob/s1", "bob/s2", "bobx/s3", "bobx/s4"].flatMap((t) =>
      ["main.tar.gz", "main.include_imports.tar.gz", "main.include_imports_and_wkt.tar.gz"].map(
        async (file) => {
          const res = await get(`${server.url}/v1/${t}/v1/demo/m-a/${file}`);
          finished++;
          return res;
        },
      ),
    );
    // Anonymous callers together hold at most two of the four slots, whatever plugins and owners they name.
    let flooding = 0;
    for (const deadline = Date.now() + 30_000; flooding < 2 && Date.now() < deadline; await pause())
      flooding = await runsOf("protoc-gen-slow");
    assert.equal(flooding, 2, "the flood took the anonymous callers' two slots");
    // alice's run starts at once, beside the flood's first two runs: none of them has ended when hers is seen.
    let aliceDone = false;
    const alice = aliceCold("m-c").then(() => {
      aliceDone = true;
    });
    let aliceStarted = false;
    let mostFlooding = flooding;
    while (!aliceStarted && !aliceDone) {
      const [es, slow] = await Promise.all([runsOf("protoc-gen-es"), runsOf("protoc-gen-slow")]);
      mostFlooding = Math.max(mostFlooding, slow);
      aliceStarted = es > 0;
      if (!aliceStarted) await pause();
    }
    const finishedBeforeAlice = finished;
    assert.ok(aliceStarted, "alice's plugin run was seen running");
    assert.equal(finishedBeforeAlice, 0, "alice's run started while the flood's first runs were still going");
    assert.ok(mostFlooding <= 2, `the flood held ${mostFlooding} slots`);
    await alice;
    for (const { status, body } of await Promise.all(flood)) assert.equal(status, 200, body.toString());
  });

  it("a failing URL, repeated, is answered from memory: the same error, no plugin run", async () => {
    const url = `${server.url}/v1/bob/fail/v1/demo/m-a/main.tar.gz`;
    const runs = await pluginRuns(server);
    const first = await get(url);
    assert.equal(first.status, 422, first.body.toString());
    assert.match(first.body.toString(), /bob\/slow:v1\.0\.0[\s\S]*this plugin always fails/);
    assert.equal(await pluginRuns(server), runs + 1);
    for (let i = 0; i < 3; i++) {
      const again = await get(url);
      assert.equal(again.status, first.status);
      assert.equal(again.body.toString(), first.body.toString());
    }
    assert.equal(await pluginRuns(server), runs + 1, "the repeats ran no plugin");
    // A signed-in caller asking the same artifact gets the remembered failure too: it is the artifact's.
    const signedIn = await get(url, aliceToken);
    assert.equal(signedIn.body.toString(), first.body.toString());
    assert.equal(await pluginRuns(server), runs + 1);
  });
});
