// e2e: exclusive — bounds by the clock how long refusing a stranger's input takes
// Issue 14, hostile input: what a stranger sends is refused before it costs anything, with a 4xx that says why.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { openRemote } from "../../src/cli/client.js";
import { UserService } from "../../src/gen/protodepot/v1/user_pb.js";
import { adminToken, makeDataDir, startTestServer, type TestServer } from "./support/server.js";

interface CurlResult {
  status: number;
  body: string;
}

/** The message of a Connect error body, unescaped. */
function message(res: CurlResult): string {
  try {
    const parsed = JSON.parse(res.body) as { message?: unknown };
    return typeof parsed.message === "string" ? parsed.message : res.body;
  } catch {
    return res.body;
  }
}

function curl(args: string[], input?: Buffer | string): Promise<CurlResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      "curl",
      ["-sS", "-o", "-", "-w", "\n%{http_code}", ...args],
      { maxBuffer: 64 << 20 },
      (err, stdout) => {
        if (err && !stdout) return reject(err);
        const lines = stdout.trimEnd().split("\n");
        resolve({ status: Number(lines.pop()), body: lines.join("\n") });
      },
    );
    // The server may answer (a 401 before reading the body) and curl exit before it has read all of stdin.
    child.stdin?.on("error", () => {});
    child.stdin?.end(input ?? "");
  });
}

const pushPath = "/protodepot.v1.ModuleService/Push";
const b64 = (s: string) => Buffer.from(s).toString("base64");
const proto = { path: "h/v1/h.proto", content: 'syntax = "proto3";\npackage h.v1;\nmessage H {}\n' };

/** A v1 buf.yaml of `keys` distinct top-level keys: what made the YAML library's key check quadratic. */
function manyKeys(keys: number): string {
  let text = "version: v1\nname: buf.build/alice/hostile\n";
  for (let i = 0; i < keys; i++) text += `k${i}: 1\n`;
  return text;
}

describe("hostile input", () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;
  let aliceToken: string;

  const push = (files: { path: string; content: string }[], auth?: string, extra: string[] = []) =>
    curl(
      [
        "-X",
        "POST",
        "-H",
        "content-type: application/json",
        ...(auth ? ["-H", `authorization: ${auth}`] : []),
        ...extra,
        "--data-binary",
        "@-",
        `${server.url}${pushPath}`,
      ],
      JSON.stringify({ files: files.map((f) => ({ path: f.path, content: b64(f.content) })) }),
    );

  before(async () => {
    data = await makeDataDir();
    server = await startTestServer({
      dataDir: data.dir,
      env: { PROTODEPOT_LIMITS_MAX_UPLOAD_BYTES: String(8 << 20), PROTODEPOT_LIMITS_MAX_FILES: "50" },
    });
    const admin = (await openRemote({ remote: server.url, token: adminToken }, {})).client(UserService);
    await admin.createUser({ name: "alice" });
    aliceToken = (await admin.createToken({ user: "alice" })).token;
  });
  after(async () => {
    await server.stop();
    await data.remove();
  });

  it("refuses an anonymous push before reading its body, and a huge buf.yaml before parsing it", async () => {
    const huge = [{ path: "buf.yaml", content: manyKeys(200_000) }, proto]; // ~2.6 MB, 67 s of parsing before
    const started = Date.now();
    const [anonymous, signedIn, health] = await Promise.all([
      push(huge),
      push(huge, `Bearer ${aliceToken}`),
      curl([`${server.url}/healthz`]),
    ]);
    assert.equal(anonymous.status, 401, anonymous.body);
    assert.match(message(anonymous), /pushing needs a token/);
    assert.equal(signedIn.status, 400, signedIn.body);
    assert.match(message(signedIn), /buf\.yaml: is \d+ bytes, more than the limit of 65536/);
    assert.equal(health.status, 200);
    assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
  });

  it("refuses an anonymous GenerateCode before reading its image, and an image over the body limit", async () => {
    const call = (bytes: number, authorization?: string) =>
      fetch(`${server.url}/buf.alpha.registry.v1alpha1.CodeGenerationService/GenerateCode`, {
        method: "POST",
        headers: {
          "content-type": "application/proto",
          "connect-protocol-version": "1",
          ...(authorization ? { authorization } : {}),
        },
        body: new Uint8Array(bytes).fill(0x0a),
      });
    const anonymous = await call(7 << 20);
    assert.equal(anonymous.status, 401);
    assert.match(((await anonymous.json()) as { message: string }).message, /remote plugins need a token/);
    const huge = await call(9 << 20, `Bearer ${aliceToken}`);
    assert.equal(huge.status, 413);
    assert.match(
      ((await huge.json()) as { message: string }).message,
      /at most 8388608 \(limits.maxUploadBytes\)/,
    );
  });

  it("parses a buf.yaml just under the cap in linear time and names a duplicate key", async () => {
    const keys = manyKeys(4_500);
    assert.ok(keys.length < 64 << 10);
    const started = Date.now();
    const dup = await push([{ path: "buf.yaml", content: `${keys}k17: 2\n` }, proto], `Bearer ${aliceToken}`);
    assert.equal(dup.status, 400, dup.body);
    assert.match(message(dup), /buf\.yaml: is not valid YAML: key "k17" appears twice/);
    assert.ok(Date.now() - started < 3_000, `took ${Date.now() - started} ms`);
  });

  it("answers a billion-laughs buf.yaml with 400", async () => {
    const laughs = [
      "version: v1",
      'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
      "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]",
      "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]",
      "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]",
      "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]",
      "f: [*e,*e,*e,*e,*e,*e,*e,*e,*e]",
      "",
    ].join("\n");
    const res = await push([{ path: "buf.yaml", content: laughs }, proto], `Bearer ${aliceToken}`);
    assert.equal(res.status, 400, res.body);
    assert.match(message(res), /buf\.yaml: is not valid YAML: Excessive alias count/);
  });

  it("answers binary garbage sent as application/proto with 400", async () => {
    const res = await curl(
      [
        "-X",
        "POST",
        "-H",
        "content-type: application/proto",
        "-H",
        `authorization: Bearer ${aliceToken}`,
        "--data-binary",
        "@-",
        `${server.url}${pushPath}`,
      ],
      Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), randomBytes(4096)]),
    );
    assert.equal(res.status, 400, res.body);
    assert.match(res.body, /invalid_argument/);
    assert.match(message(res), /not a valid protodepot\.v1\.PushRequest message/);
  });

  it("answers too many files and a chunked body over the limit with 413, not 429", async () => {
    const files = [{ path: "buf.yaml", content: "version: v1\nname: buf.build/alice/hostile\n" }];
    for (let i = 0; i < 60; i++) files.push({ path: `h/v1/f${i}.proto`, content: 'syntax = "proto3";' });
    const many = await push(files, `Bearer ${aliceToken}`);
    assert.equal(many.status, 413, many.body);
    assert.match(message(many), /61 files, more than the limit of 50/);

    const big = [
      { path: "buf.yaml", content: "version: v1\n" },
      { path: "h/v1/b.proto", content: "x".repeat(9 << 20) },
    ];
    const chunked = await push(big, `Bearer ${aliceToken}`, ["-H", "transfer-encoding: chunked"]);
    assert.equal(chunked.status, 413, chunked.body);
    assert.match(message(chunked), /limits\.maxUploadBytes/);
  });

  it("refuses path names that no file system could unpack from an archive", async () => {
    const bufYaml = { path: "buf.yaml", content: "version: v1\nname: buf.build/alice/hostile\n" };
    const longDir = await push(
      [bufYaml, { path: `h/${"d".repeat(256)}/h.proto`, content: proto.content }],
      `Bearer ${aliceToken}`,
    );
    assert.equal(longDir.status, 400, longDir.body);
    assert.match(message(longDir), /"d{256}" is 256 bytes long; file systems allow at most 255/);
    const longFile = await push(
      [bufYaml, { path: `h/v1/${"n".repeat(195)}.proto`, content: proto.content }],
      `Bearer ${aliceToken}`,
    );
    assert.equal(longFile.status, 400, longFile.body);
    assert.match(message(longFile), /the file name is 201 bytes long; at most 200/);
    const fine = await push(
      [bufYaml, { path: `h/${"d".repeat(255)}/${"n".repeat(194)}.proto`, content: proto.content }],
      `Bearer ${aliceToken}`,
    );
    assert.equal(fine.status, 200, fine.body);
  });
});
