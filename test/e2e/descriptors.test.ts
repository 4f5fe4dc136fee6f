// A module's schema as a FileDescriptorSet, fetched over HTTP (GET …/descriptor/{ref}) and over BSR's reflection
// API, decodes what the real `buf convert` encoded from the sources; the h2c port serves gRPC, so the real
// `buf curl --protocol grpc --http2-prior-knowledge` lists our API through gRPC server reflection and calls it.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import http2 from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createFileRegistry, fromBinary, toJson } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { FileDescriptorSetService } from "../../src/gen/buf/reflect/v1beta1/file_descriptor_set_pb.js";
import { cliOk } from "./support/cli.js";
import { adminToken, makeDataDir, repoRoot, startTestServer, type TestServer } from "./support/server.js";

const bufBin = join(repoRoot, "node_modules", ".bin", "buf");

const files = {
  base: {
    "base/v1/money.proto": `syntax = "proto3";
package base.v1;

import "google/protobuf/timestamp.proto";

// An amount of one currency.
message Money {
  string currency = 1;
  int64 units = 2;
  google.protobuf.Timestamp as_of = 3;
}
`,
  },
  app: {
    "app/v1/order.proto": `syntax = "proto3";
package app.v1;

import "base/v1/money.proto";

// An order, as the shop keeps it.
message Order {
  string id = 1;
  base.v1.Money total = 2;
  repeated string items = 3;
}

service OrderService {
  rpc GetOrder(Order) returns (Order);
}
`,
  },
  secret: {
    "secret/v1/plan.proto": `syntax = "proto3";
package secret.v1;

message Plan {
  string codename = 1;
}
`,
  },
} as const;

const order = {
  id: "o-1",
  total: { currency: "EUR", units: "42", asOf: "2026-01-02T03:04:05Z" },
  items: ["tea", "cake"],
};

interface BufResult {
  code: number;
  stdout: string;
  stderr: string;
}

function buf(args: string[], cwd: string): Promise<BufResult> {
  return new Promise((resolve) => {
    execFile(
      bufBin,
      args,
      { cwd, env: { ...process.env, BUF_CACHE_DIR: join(cwd, ".cache") }, maxBuffer: 16 << 20 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

async function bufOk(args: string[], cwd: string): Promise<BufResult> {
  const r = await buf(args, cwd);
  assert.equal(r.code, 0, `buf ${args.join(" ")} failed:\n${r.stderr}`);
  return r;
}

describe("descriptors, BSR reflection and gRPC over h2c", () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;
  let work: string;
  let h2cUrl: string;
  /** Order encoded by buf convert from the local sources. */
  let encoded: Uint8Array;

  async function writeModule(name: keyof typeof files, deps: string[], visibility: string) {
    const dir = join(work, name);
    const depLines = deps.length ? `deps:\n${deps.map((d) => `  - buf.build/${d}\n`).join("")}` : "";
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "buf.yaml"), `version: v1\nname: buf.build/acme/${name}\n${depLines}`);
    for (const [path, text] of Object.entries(files[name])) {
      await mkdir(join(dir, path, ".."), { recursive: true });
      await writeFile(join(dir, path), text);
    }
    await cliOk(["push", dir, "--visibility", visibility], {
      PROTODEPOT_REMOTE: server.url,
      PROTODEPOT_TOKEN: adminToken,
    });
  }

  before(async () => {
    data = await makeDataDir();
    work = await mkdtemp(join(tmpdir(), "protodepot-descriptors-"));
    server = await startTestServer({
      dataDir: data.dir,
      orgs: ["acme"],
      env: { PROTODEPOT_SERVER_H2C_PORT: "0" },
    });
    for (let i = 0; i < 100 && !/gRPC \(h2c\) at (\S+)/.test(server.output()); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    h2cUrl = /gRPC \(h2c\) at (\S+)/.exec(server.output())?.[1] ?? "";
    assert.match(h2cUrl, /^http:\/\/127\.0\.0\.1:\d+$/, server.output());
    await writeModule("base", [], "public");
    await writeModule("app", ["acme/base"], "public");
    await writeModule("secret", [], "private");
    // The same sources as a local workspace: what a producer encodes messages with.
    const ws = join(work, "ws");
    await mkdir(ws, { recursive: true });
    await writeFile(join(ws, "buf.yaml"), "version: v2\nmodules:\n  - path: base\n  - path: app\n");
    for (const name of ["base", "app"] as const) {
      for (const [path, text] of Object.entries(files[name])) {
        await mkdir(join(ws, name, path, ".."), { recursive: true });
        await writeFile(join(ws, name, path), text);
      }
    }
    await writeFile(join(work, "order.json"), JSON.stringify(order));
    await bufOk(
      ["convert", "ws", "--type", "app.v1.Order", "--from", "order.json", "--to", "order.binpb"],
      work,
    );
    encoded = new Uint8Array(await readFile(join(work, "order.binpb")));
  });

  after(async () => {
    await server?.stop();
    await data?.remove();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("GET …/descriptor/{ref} answers a self-contained set that decodes buf convert's bytes", async () => {
    const res = await fetch(`${server.url}/acme/app/descriptor/main`);
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(res.headers.get("content-type"), "application/x-protobuf");
    const bytes = new Uint8Array(await res.arrayBuffer());
    const set = fromBinary(FileDescriptorSetSchema, bytes);
    assert.deepEqual(
      set.file.map((f) => f.name),
      ["google/protobuf/timestamp.proto", "base/v1/money.proto", "app/v1/order.proto"],
    );
    assert.ok(
      set.file.every((f) => f.sourceCodeInfo === undefined),
      "no source info by default",
    );
    const Order = createFileRegistry(set).getMessage("app.v1.Order");
    assert.ok(Order);
    assert.deepEqual(toJson(Order, fromBinary(Order, encoded)), order);

    // buf itself reads the set as an image input and decodes the same bytes.
    await writeFile(join(work, "app.binpb"), bytes);
    const decoded = await bufOk(
      [
        "convert",
        "app.binpb#format=binpb",
        "--type",
        "app.v1.Order",
        "--from",
        "order.binpb",
        "--to",
        "-#format=json",
      ],
      work,
    );
    assert.deepEqual(JSON.parse(decoded.stdout), order);
  });

  it("imports=false keeps the module's own files, source_info=true keeps the comments, by label or commit", async () => {
    const own = await fetch(`${server.url}/acme/app/descriptor/main?imports=false&source_info=true`);
    assert.equal(own.status, 200);
    const commit = own.headers.get("x-protodepot-commit") ?? "";
    assert.match(commit, /^[0-9a-f]{32}$/);
    const set = fromBinary(FileDescriptorSetSchema, new Uint8Array(await own.arrayBuffer()));
    assert.deepEqual(
      set.file.map((f) => f.name),
      ["app/v1/order.proto"],
    );
    const comments = set.file[0]?.sourceCodeInfo?.location.map((l) => l.leadingComments) ?? [];
    assert.ok(comments.includes(" An order, as the shop keeps it.\n"), JSON.stringify(comments));

    const byCommit = await fetch(`${server.url}/acme/app/descriptor/${commit}?imports=false`);
    assert.equal(byCommit.status, 200);
    assert.match(byCommit.headers.get("cache-control") ?? "", /immutable/);
    const bad = await fetch(`${server.url}/acme/app/descriptor/main?imports=maybe`);
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /\?imports=maybe: expected true or false/);
    assert.equal((await fetch(`${server.url}/acme/app/descriptor/nolabel`)).status, 404);
  });

  it("a private module's descriptor is 404 without a token and 200 with one that may read it", async () => {
    const url = `${server.url}/acme/secret/descriptor/main`;
    assert.equal((await fetch(url)).status, 404);
    const res = await fetch(url, { headers: { authorization: `Bearer ${adminToken}` } });
    assert.equal(res.status, 200);
    const set = fromBinary(FileDescriptorSetSchema, new Uint8Array(await res.arrayBuffer()));
    assert.deepEqual(
      set.file.map((f) => f.name),
      ["secret/v1/plan.proto"],
    );
    assert.equal((await fetch(url, { headers: { authorization: "Bearer pd_wrong" } })).status, 401);
  });

  it("buf.reflect.v1beta1.FileDescriptorSetService answers the schema, the commit, and the files symbols need", async () => {
    const host = new URL(server.url).host;
    const anonymous = createClient(
      FileDescriptorSetService,
      createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }),
    );
    const full = await anonymous.getFileDescriptorSet({ module: `${host}/acme/app`, version: "main" });
    const head = await fetch(`${server.url}/acme/app/descriptor/main`);
    assert.equal(full.version, head.headers.get("x-protodepot-commit"));
    assert.ok(full.fileDescriptorSet);
    const Order = createFileRegistry(full.fileDescriptorSet).getMessage("app.v1.Order");
    assert.ok(Order);
    assert.deepEqual(toJson(Order, fromBinary(Order, encoded)), order);

    const money = await anonymous.getFileDescriptorSet({ module: "acme/app", symbols: ["base.v1.Money"] });
    assert.deepEqual(
      money.fileDescriptorSet?.file.map((f) => f.name),
      ["google/protobuf/timestamp.proto", "base/v1/money.proto"],
    );
    const method = await anonymous.getFileDescriptorSet({
      module: "acme/app",
      symbols: ["app.v1.OrderService.GetOrder"],
    });
    assert.equal(method.fileDescriptorSet?.file.at(-1)?.name, "app/v1/order.proto");

    const refused = async (p: Promise<unknown>, code: Code, message: RegExp) => {
      const err = await p.then(
        () => assert.fail("expected a refusal"),
        (e: unknown) => ConnectError.from(e),
      );
      assert.equal(err.code, code, err.message);
      assert.match(err.message, message);
    };
    await refused(
      anonymous.getFileDescriptorSet({ module: "acme/app", symbols: ["app.v1.Nope"] }),
      Code.FailedPrecondition,
      /no file of the module declares the symbol app\.v1\.Nope/,
    );
    await refused(
      anonymous.getFileDescriptorSet({ module: "acme/app", symbols: [".app.v1.Order"] }),
      Code.InvalidArgument,
      /not a fully-qualified Protobuf name/,
    );
    await refused(anonymous.getFileDescriptorSet({ module: "acme/secret" }), Code.NotFound, /acme\/secret/);
    const admin = createClient(
      FileDescriptorSetService,
      createConnectTransport({
        baseUrl: server.url,
        httpVersion: "1.1",
        interceptors: [
          (next) => (req) => {
            req.header.set("authorization", `Bearer ${adminToken}`);
            return next(req);
          },
        ],
      }),
    );
    const secret = await admin.getFileDescriptorSet({ module: "acme/secret" });
    assert.deepEqual(
      secret.fileDescriptorSet?.file.map((f) => f.name),
      ["secret/v1/plan.proto"],
    );
  });

  it("buf curl --list-methods lists our API through gRPC server reflection (v1 and v1alpha) over h2c", async () => {
    for (const reflect of ["grpc-v1", "grpc-v1alpha"]) {
      const listed = await bufOk(
        [
          "curl",
          "--protocol",
          "grpc",
          "--http2-prior-knowledge",
          "--reflect-protocol",
          reflect,
          "--list-methods",
          h2cUrl,
        ],
        work,
      );
      const methods = listed.stdout.trim().split("\n");
      for (const m of [
        "protodepot.v1.ServerService/GetServerInfo",
        "protodepot.v1.UserService/WhoAmI",
        "protodepot.v1.ModuleService/Push",
      ]) {
        assert.ok(methods.includes(m), `${reflect}: ${m} missing from:\n${listed.stdout}`);
      }
    }
  });

  it("the h2c port refuses an oversized body before reading it, as the main port does", async () => {
    const session = http2.connect(h2cUrl);
    try {
      // A gigabyte announced, nothing sent: only a refusal made before reading the body can answer.
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const stream = session.request({
          ":method": "POST",
          ":path": "/protodepot.v1.ModuleService/Push",
          "content-type": "application/json",
          "content-length": String(1 << 30),
          authorization: `Bearer ${adminToken}`,
        });
        let status = 0;
        let body = "";
        stream.on("response", (h) => {
          status = Number(h[":status"]);
        });
        stream.on("data", (d: Buffer) => {
          body += d.toString();
        });
        stream.on("end", () => resolve({ status, body }));
        stream.on("error", reject);
      });
      assert.equal(answer.status, 413);
      assert.match(answer.body, /request body is 1073741824 bytes; this server accepts at most/);
    } finally {
      session.close();
    }
  });

  it("buf curl --protocol grpc calls our API over h2c, with the same tokens as the main port", async () => {
    const info = await bufOk(
      [
        "curl",
        "--protocol",
        "grpc",
        "--http2-prior-knowledge",
        "-d",
        "{}",
        `${h2cUrl}/protodepot.v1.ServerService/GetServerInfo`,
      ],
      work,
    );
    const body = JSON.parse(info.stdout) as { npmScope?: string; goHost?: string };
    assert.equal(typeof body.goHost, "string");
    assert.ok(body.npmScope);

    const whoami = (token: string) =>
      buf(
        [
          "curl",
          "--protocol",
          "grpc",
          "--http2-prior-knowledge",
          "-H",
          `Authorization: Bearer ${token}`,
          "-d",
          "{}",
          `${h2cUrl}/protodepot.v1.UserService/WhoAmI`,
        ],
        work,
      );
    const me = await whoami(adminToken);
    assert.equal(me.code, 0, me.stderr);
    assert.match(me.stdout, /"admin"/);
    // Reflection is anonymous here (buf sends -H headers only to the call): the call itself is refused.
    const wrong = await whoami("pd_wrong-token-0000000000");
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /unauthenticated/);
  });
});
