// The real cmake: a consumer's FetchContent_Declare (URL + URL_HASH) of a module's archive builds and runs with g++
// against Debian's protobuf; the dependency module comes through the archive's own nested, SHA-256-pinned
// declaration; a private module needs the token through CMAKE_NETRC (which reaches the nested download too).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { readTarGz } from "../../src/packaging/tar.js";
import { wipeArtifacts } from "./support/cache.js";
import { seedPackageWorld } from "./support/package-world.js";
import { makeDataDir, startTestServer, type TestServer } from "./support/server.js";

const exec = promisify(execFile);

function cmakeMissing(): string | undefined {
  const needs: [string, string][] = [
    ["/usr/bin/cmake", "cmake"],
    ["/usr/bin/g++", "g++"],
    ["/usr/bin/protoc", "protobuf-compiler"],
    ["/usr/include/google/protobuf/message.h", "libprotobuf-dev"],
  ];
  const missing = needs.filter(([path]) => !existsSync(path)).map(([, pkg]) => pkg);
  if (missing.length === 0) return undefined;
  const reason = `apt-get install ${missing.join(" ")} (.ci/apt/rust-cmake.txt)`;
  if (process.env.CI === "true") throw new Error(reason);
  return reason;
}

/** Why protodepot/cpp-grpc cannot be built here: Debian's grpc_cpp_plugin and gRPC++ (.ci/apt/rust-cmake.txt). */
function grpcCppMissing(): string | undefined {
  const needs: [string, string][] = [
    ["/usr/bin/grpc_cpp_plugin", "protobuf-compiler-grpc"],
    ["/usr/include/grpcpp/grpcpp.h", "libgrpc++-dev"],
  ];
  const missing = needs.filter(([path]) => !existsSync(path)).map(([, pkg]) => pkg);
  if (missing.length === 0) return undefined;
  const reason = `apt-get install ${missing.join(" ")} (.ci/apt/rust-cmake.txt)`;
  if (process.env.CI === "true") throw new Error(reason);
  return reason;
}

/** A client stub over a channel that never connects (channels are lazy): links and runs on gRPC++. */
const grpcMain = `#include <iostream>
#include <grpcpp/grpcpp.h>
#include "demo/payments/v1/payments.grpc.pb.h"

int main() {
  auto channel = grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials());
  auto stub = demo::payments::v1::PaymentService::NewStub(channel);
  demo::payments::v1::CreatePaymentRequest request;
  std::cout << demo::payments::v1::PaymentService::service_full_name() << " " << (stub != nullptr) << std::endl;
}
`;

const paymentsMain = `#include <iostream>
#include "demo/payments/v1/payments.pb.h"

int main() {
  demo::payments::v1::Payment p;
  p.set_id("p-1");
  p.set_status(demo::payments::v1::STATUS_SETTLED);
  p.set_memo("rent");
  auto* amount = p.mutable_amount();
  amount->set_currency_code("EUR");
  amount->set_units(12);
  amount->set_nanos(500000000);
  p.mutable_created_at()->set_seconds(1704164645);
  std::string data;
  p.SerializeToString(&data);
  demo::payments::v1::Payment back;
  if (!back.ParseFromString(data)) return 1;
  std::cout << data.size() << " " << back.amount().currency_code() << " " << back.amount().units() << " "
            << back.created_at().seconds() << " " << back.memo() << std::endl;
}
`;

const ledgerMain = `#include <iostream>
#include "acme/ledger/v1/ledger.pb.h"

int main() {
  acme::ledger::v1::Entry e;
  e.set_account("a");
  e.mutable_amount()->set_units(3);
  acme::ledger::v1::Entry back;
  back.ParseFromString(e.SerializeAsString());
  std::cout << back.amount().units() << std::endl;
}
`;

describe("CMake FetchContent with the real cmake", { skip: cmakeMissing() }, () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;
  let work: string;
  let readerToken: string;

  const sha256Of = async (path: string, token?: string) => {
    const res = await fetch(
      `${server.url}${path}.sha256`,
      token ? { headers: { authorization: `Bearer ${token}` } } : {},
    );
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.text()).trim();
  };

  /** Configures, builds and runs a consumer; rejects with cmake's output when a step fails. */
  const consumer = async (
    name: string,
    pkg: string,
    path: string,
    sha256: string,
    main: string,
    extra: string[] = [],
  ) => {
    const dir = join(work, name);
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, "CMakeLists.txt"),
      "cmake_minimum_required(VERSION 3.14...3.31)\nproject(consumer LANGUAGES CXX)\ninclude(FetchContent)\n" +
        `FetchContent_Declare(${pkg}\n  URL "\${PROTODEPOT_URL}${path}"\n  URL_HASH SHA256=${sha256}\n)\n` +
        `FetchContent_MakeAvailable(${pkg})\nadd_executable(app main.cc)\n` +
        `target_link_libraries(app PRIVATE ${pkg.replace("_", "::")})\n`,
    );
    await writeFile(join(dir, "main.cc"), main);
    const build = join(dir, "build");
    const run = (cmd: string, args: string[]) =>
      exec(cmd, args, { cwd: dir, maxBuffer: 16 * 1024 * 1024 }).catch(
        (err: { stdout: string; stderr: string }) => {
          throw new Error(`${cmd} ${args.join(" ")} failed:\n${err.stdout}\n${err.stderr}`);
        },
      );
    await run("cmake", ["-S", dir, "-B", build, `-DPROTODEPOT_URL=${server.url}`, ...extra]);
    await run("cmake", ["--build", build, "-j", "2"]);
    return (await run(join(build, "app"), [])).stdout.trim();
  };

  before(async () => {
    data = await makeDataDir();
    work = await mkdtemp(join(tmpdir(), "protodepot-cmake-"));
    server = await startTestServer({ dataDir: data.dir, orgs: ["demo", "acme"] });
    ({ readerToken } = await seedPackageWorld(server.url, work));
  });
  after(async () => {
    await server?.stop();
    await data?.remove();
    await rm(work, { recursive: true, force: true });
  });

  it("a consumer's FetchContent builds and runs against demo/payments; demo/money comes through the nested, pinned declaration", async () => {
    const path = "/cmake/protodepot/cpp/demo/payments/1.1.1.tar.gz";
    const sha256 = await sha256Of(path);
    const out = await consumer("payments", "protodepot_cpp_demo_payments", path, sha256, paymentsMain);
    assert.equal(out, "36 EUR 12 1704164645 rent");
    // The archive: generated C++ at the root and a CMakeLists.txt pinning money's archive by its SHA-256, with the
    // server's URL left to the consumer (PROTODEPOT_URL), so the bytes are the same on every host and port.
    const bytes = new Uint8Array(await (await fetch(`${server.url}${path}`)).arrayBuffer());
    const entries = await readTarGz(bytes);
    assert.deepEqual(
      entries.map((e) => e.path),
      ["CMakeLists.txt", "demo/payments/v1/payments.pb.cc", "demo/payments/v1/payments.pb.h"],
    );
    const lists = new TextDecoder().decode(entries[0]?.content);
    const moneySha = await sha256Of("/cmake/protodepot/cpp/demo/money/1.1.1.tar.gz");
    assert.ok(
      lists.includes(
        `FetchContent_Declare(protodepot_cpp_demo_money\n  URL "\${PROTODEPOT_URL}/cmake/protodepot/cpp/demo/money/1.1.1.tar.gz"\n  URL_HASH SHA256=${moneySha}\n)`,
      ),
      lists,
    );
    assert.ok(!lists.includes(server.url), "the server's URL is not in the bytes");
  });

  it("a private module builds with the token in CMAKE_NETRC (nested downloads included) and is a 404 without it", async () => {
    const path = "/cmake/protodepot/cpp/acme/ledger/1.1.1.tar.gz";
    assert.equal((await fetch(`${server.url}${path}`)).status, 404);
    const sha256 = await sha256Of(path, readerToken);
    const refused = await consumer(
      "ledger-anonymous",
      "protodepot_cpp_acme_ledger",
      path,
      sha256,
      ledgerMain,
    ).then(
      () => "",
      (err: Error) => err.message,
    );
    assert.match(refused, /404/);
    const netrc = join(work, "netrc");
    await writeFile(netrc, `machine 127.0.0.1 login __token__ password ${readerToken}\n`, { mode: 0o600 });
    const out = await consumer("ledger", "protodepot_cpp_acme_ledger", path, sha256, ledgerMain, [
      "-DCMAKE_NETRC=REQUIRED",
      `-DCMAKE_NETRC_FILE=${netrc}`,
    ]);
    assert.equal(out, "3");
  });

  it("a wiped cache and a restart (on a new port) give the same archive bytes: the consumer's URL_HASH holds", async () => {
    const path = "/cmake/protodepot/cpp/demo/payments/1.1.1.tar.gz";
    const before = await sha256Of(path);
    await server.stop();
    assert.ok((await wipeArtifacts(data.dir)) >= 2);
    // Port 0 again: most likely another address, which the bytes do not depend on either.
    server = await startTestServer({ dataDir: data.dir, orgs: ["demo", "acme"] });
    assert.equal(await sha256Of(path), before);
    const bytes = new Uint8Array(await (await fetch(`${server.url}${path}`)).arrayBuffer());
    assert.equal(createHash("sha256").update(bytes).digest("hex"), before);
  });

  it("answers unknown versions and files with a readable 404", async () => {
    for (const [path, message] of [
      ["/cmake/protodepot/cpp/demo/payments/1.1.9.tar.gz", /has no version 1\.1\.9/],
      ["/cmake/protodepot/cpp/demo/payments/latest.tar.gz", /versions look like 1\./],
      ["/cmake/protodepot/cpp/demo/payments/1.1.1.zip", /archives are \{version\}\.tar\.gz/],
    ] as const) {
      const res = await fetch(`${server.url}${path}`);
      assert.equal(res.status, 404, path);
      assert.match(await res.text(), message, path);
    }
  });
  it("protodepot/cpp-grpc's archive links gRPC++ through gRPC's CMake package, and a client stub builds and runs", {
    skip: grpcCppMissing(),
  }, async () => {
    const path = "/cmake/protodepot/cpp-grpc/demo/payments/1.1.1.tar.gz";
    const sha256 = await sha256Of(path);
    const entries = await readTarGz(
      new Uint8Array(await (await fetch(`${server.url}${path}`)).arrayBuffer()),
    );
    assert.deepEqual(
      entries.map((e) => e.path),
      [
        "CMakeLists.txt",
        "demo/payments/v1/payments.grpc.pb.cc",
        "demo/payments/v1/payments.grpc.pb.h",
        "demo/payments/v1/payments.pb.cc",
        "demo/payments/v1/payments.pb.h",
      ],
    );
    const lists = new TextDecoder().decode(entries[0]?.content);
    assert.match(lists, /find_package\(gRPC CONFIG REQUIRED\)/);
    assert.match(lists, /PUBLIC protobuf::libprotobuf gRPC::grpc\+\+ protodepot::cpp-grpc_demo_money\)/);
    const out = await consumer("grpc", "protodepot_cpp-grpc_demo_payments", path, sha256, grpcMain);
    assert.equal(out, "demo.payments.v1.PaymentService 1");
  });
});
