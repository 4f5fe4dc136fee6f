// The real `npm` installs generated packages, TypeScript type-checks them, Node runs them,
// and `npm ci` still succeeds after the server's cache is wiped (same bytes, same integrity).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { wipeArtifacts } from "./support/cache.js";
import { cliOk } from "./support/cli.js";
import { createNpmProject, type NpmProject } from "./support/npm-client.js";
import { adminToken, makeDataDir, repoRoot, startTestServer, type TestServer } from "./support/server.js";

const exec = promisify(execFile);
const tsc = join(repoRoot, "node_modules/.bin/tsc");
const payments = "@protodepot/protodepot_es_demo_payments";
const money = "@protodepot/protodepot_es_demo_money";

// Imports by path, with and without `.js`, a type from the dependency package, and a well-known type.
const consumerTs = `import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { type Timestamp, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type Money, MoneySchema } from "${money}/demo/money/v1/money_pb.js";
import { type Payment, PaymentSchema, Status } from "${payments}/demo/payments/v1/payments_pb.js";
import type { CreatePaymentRequest } from "${payments}/demo/payments/v1/payments_pb";

const amount: Money = create(MoneySchema, { currencyCode: "EUR", units: 12n, nanos: 500_000_000 });
const createdAt: Timestamp = timestampFromDate(new Date("2024-01-02T03:04:05Z"));
const payment: Payment = create(PaymentSchema, { id: "p-1", amount, createdAt, status: Status.SETTLED });
const back: Payment = fromBinary(PaymentSchema, toBinary(PaymentSchema, payment));
const units: bigint | undefined = back.amount?.units;
const request: CreatePaymentRequest | undefined = undefined;
export { units, request };
`;

// A wrong type must fail: proves the declarations resolve, rather than everything silently being \`any\`.
const brokenTs = `import type { Payment } from "${payments}/demo/payments/v1/payments_pb.js";
export const id: number = ({} as Payment).id;
`;

const consumerJs = `import { create, fromBinary, toBinary, toJsonString } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { MoneySchema } from "${money}/demo/money/v1/money_pb.js";
import { PaymentSchema, Status } from "${payments}/demo/payments/v1/payments_pb.js";

const payment = create(PaymentSchema, {
  id: "p-1",
  amount: create(MoneySchema, { currencyCode: "EUR", units: 12n, nanos: 500_000_000 }),
  createdAt: timestampFromDate(new Date("2024-01-02T03:04:05Z")),
  status: Status.SETTLED,
});
const bytes = toBinary(PaymentSchema, payment);
const back = fromBinary(PaymentSchema, bytes);
console.log(bytes.length, toJsonString(PaymentSchema, back));
`;
const expectedOutput =
  '30 {"id":"p-1","amount":{"currencyCode":"EUR","units":"12","nanos":500000000},"createdAt":"2024-01-02T03:04:05Z","status":"STATUS_SETTLED"}';

const tsconfig = (resolution: "nodenext" | "bundler", files: string[]) =>
  `${JSON.stringify(
    {
      compilerOptions: {
        target: "ES2022",
        module: resolution === "nodenext" ? "nodenext" : "esnext",
        moduleResolution: resolution,
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        types: [],
      },
      files,
    },
    null,
    2,
  )}\n`;

interface Packument {
  "dist-tags": Record<string, string>;
  versions: Record<
    string,
    { dependencies: Record<string, string>; dist: { tarball: string; integrity: string; shasum: string } }
  >;
}

interface Lockfile {
  packages: Record<string, { version: string; resolved: string; integrity: string }>;
}

describe("npm registry with the real npm client", () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;
  let work: string;
  let project: NpmProject;
  let port: string;

  const packument = async (name: string): Promise<Packument> => {
    const res = await fetch(`${server.url}/npm/${name.replace("/", "%2f")}`);
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as Packument;
  };
  const typecheck = (config: string) => exec(tsc, ["--noEmit", "-p", config], { cwd: project.dir });

  before(async () => {
    data = await makeDataDir();
    work = await mkdtemp(join(tmpdir(), "protodepot-npm-"));
    server = await startTestServer({ dataDir: data.dir, orgs: ["demo"] });
    port = new URL(server.url).port;
    const env = {
      PROTODEPOT_REMOTE: server.url,
      PROTODEPOT_TOKEN: adminToken,
      XDG_CONFIG_HOME: join(work, "config"),
    };
    await cliOk(["push", join(repoRoot, "examples/money")], env);
    await cliOk(["push", join(repoRoot, "examples/payments")], env);
    project = await createNpmProject({
      dir: join(work, "consumer"),
      registry: `${server.url}/npm/`,
      scope: "protodepot",
      token: adminToken,
    });
  });
  after(async () => {
    await server.stop();
    await data.remove();
    await rm(work, { recursive: true, force: true });
  });

  it("installs a generated package; its dependency module's package comes along, @bufbuild/protobuf from npmjs", async () => {
    await project.npm(["install", payments]);
    const manifest = JSON.parse(await readFile(join(project.dir, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    assert.deepEqual(manifest.dependencies, { [payments]: "^1.1.1" });
    const lock = JSON.parse(await readFile(join(project.dir, "package-lock.json"), "utf8")) as Lockfile;
    assert.equal(lock.packages[`node_modules/${payments}`]?.version, "1.1.1");
    assert.equal(lock.packages[`node_modules/${money}`]?.version, "1.1.1");
    assert.match(
      lock.packages["node_modules/@bufbuild/protobuf"]?.resolved ?? "",
      /^https:\/\/registry\.npmjs\.org\//,
    );
  });

  it("type-checks a TypeScript consumer under moduleResolution nodenext and bundler", async () => {
    await writeFile(join(project.dir, "main.ts"), consumerTs);
    await writeFile(join(project.dir, "broken.ts"), brokenTs);
    for (const resolution of ["nodenext", "bundler"] as const) {
      await writeFile(join(project.dir, `tsconfig.${resolution}.json`), tsconfig(resolution, ["main.ts"]));
      await typecheck(`tsconfig.${resolution}.json`);
      await writeFile(
        join(project.dir, `tsconfig.broken-${resolution}.json`),
        tsconfig(resolution, ["broken.ts"]),
      );
      await assert.rejects(typecheck(`tsconfig.broken-${resolution}.json`), (err: { stdout?: string }) => {
        assert.match(err.stdout ?? "", /Type 'string' is not assignable to type 'number'/);
        return true;
      });
    }
  });

  it("runs: creates, serializes and parses a Payment with a Money from the dependency package and a Timestamp", async () => {
    await writeFile(join(project.dir, "run.mjs"), consumerJs);
    const { stdout } = await exec(process.execPath, ["run.mjs"], { cwd: project.dir });
    assert.equal(stdout.trim(), expectedOutput);
  });

  it("locks the integrity the packument advertised, for every version it lists", async () => {
    const lock = JSON.parse(await readFile(join(project.dir, "package-lock.json"), "utf8")) as Lockfile;
    for (const name of [payments, money]) {
      const doc = await packument(name);
      for (const [version, meta] of Object.entries(doc.versions)) {
        assert.match(meta.dist.integrity, /^sha512-[A-Za-z0-9+/]{86}==$/, `${name}@${version}`);
        assert.match(meta.dist.shasum, /^[0-9a-f]{40}$/, `${name}@${version}`);
      }
      const locked = lock.packages[`node_modules/${name}`];
      assert.equal(locked?.integrity, doc.versions["1.1.1"]?.dist.integrity, name);
      assert.equal(locked?.resolved, doc.versions["1.1.1"]?.dist.tarball, name);
    }
    assert.deepEqual((await packument(payments)).versions["1.1.1"]?.dependencies, {
      "@bufbuild/protobuf": "^2.13.0",
      [money]: "1.1.1",
    });
  });

  it("npm ci succeeds after the server's cache and npm's cache are wiped: regenerated bytes match the lockfile", async () => {
    const before = await packument(payments);
    await server.stop();
    const wiped = await wipeArtifacts(data.dir);
    assert.ok(wiped >= 2, `expected the npm artifacts to be wiped, wiped ${wiped}`);
    // Same port: the lockfile's `resolved` URLs name it.
    server = await startTestServer({ dataDir: data.dir, orgs: ["demo"], args: ["--port", port] });
    await project.npm(["cache", "clean", "--force"]);
    await rm(join(project.dir, "node_modules"), { recursive: true, force: true });
    await project.npm(["ci"]);
    const { stdout } = await exec(process.execPath, ["run.mjs"], { cwd: project.dir });
    assert.equal(stdout.trim(), expectedOutput);
    assert.deepEqual((await packument(payments)).versions["1.1.1"]?.dist, before.versions["1.1.1"]?.dist);
  });

  it("answers unknown packages, versions and tarballs with a readable 404, a malformed name with 400", async () => {
    const get = async (path: string) => {
      const res = await fetch(`${server.url}${path}`);
      return { status: res.status, body: (await res.json()) as { error: string } };
    };
    const unknown = await get("/npm/@protodepot%2fprotodepot_es_demo_nothing");
    assert.deepEqual(unknown, { status: 404, body: { error: "module demo/nothing does not exist" } });
    const version = await get(`/npm/${payments}/-/protodepot_es_demo_payments-1.1.9.tgz`);
    assert.equal(version.status, 404);
    assert.match(
      version.body.error,
      /has no version 1\.1\.9: module demo\/payments has no commit with sequence 9/,
    );
    const tarball = await get(`/npm/${payments}/-/something-else.tgz`);
    assert.equal(tarball.status, 404);
    assert.match(tarball.body.error, /has no tarball something-else\.tgz/);
    const malformed = await get("/npm/@protodepot%2fnot-four-parts");
    assert.equal(malformed.status, 400);
    assert.match(malformed.body.error, /invalid package name "@protodepot\/not-four-parts"/);

    const denied = await fetch(`${server.url}/npm/${payments.replace("/", "%2f")}`, {
      headers: { authorization: "Bearer pd_wrong" },
    });
    assert.equal(denied.status, 401);
    assert.match(((await denied.json()) as { error: string }).error, /./);

    const failed = await project.tryNpm(["install", "@protodepot/protodepot_es_demo_nothing"]);
    assert.notEqual(failed.code, 0);
    assert.match(failed.stderr, /404 Not Found .* - module demo\/nothing does not exist/);
  });
});
