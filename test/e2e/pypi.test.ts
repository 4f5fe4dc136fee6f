// The real pip (Debian's 23.0.1, in a fresh venv) installs generated wheels from /pypi/simple/,
// the dependency module's wheel comes along, Python imports and round-trips a message; private projects need a
// token; a wiped cache regenerates the same wheel bytes.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { wipeArtifacts } from "./support/cache.js";
import { cliOk } from "./support/cli.js";
import { copyModule } from "./support/modules.js";
import { seedPackageWorld } from "./support/package-world.js";
import { createVenv, grpcPythonMissing, pipMissing } from "./support/pip.js";
import { makeDataDir, repoRoot, startTestServer, type TestServer } from "./support/server.js";

const payments = "protodepot-python-demo-payments";
const money = "protodepot-python-demo-money";
const ledger = "protodepot-python-acme-ledger";
const json = "application/vnd.pypi.simple.v1+json";

interface ProjectPage {
  name: string;
  versions: string[];
  files: { filename: string; url: string; hashes: { sha256: string }; "core-metadata": { sha256: string } }[];
}

const roundTrip = `
from demo.money.v1 import money_pb2
from demo.payments.v1 import payments_pb2
p = payments_pb2.Payment(id="p-1", status=payments_pb2.STATUS_SETTLED, memo="rent")
p.amount.CopyFrom(money_pb2.Money(currency_code="EUR", units=12, nanos=500000000))
p.created_at.FromSeconds(1704164645)
data = p.SerializeToString()
back = payments_pb2.Payment.FromString(data)
assert back == p
print(len(data), back.amount.currency_code, back.amount.units, back.created_at.ToJsonString(), back.HasField("memo"))
`;

const grpcMissing = await grpcPythonMissing();

describe("PyPI index with the real pip", { skip: await pipMissing() }, () => {
  let data: Awaited<ReturnType<typeof makeDataDir>>;
  let server: TestServer;
  let work: string;
  let env: Record<string, string>;
  let port: string;
  let readerToken: string;

  const index = (token?: string) => {
    const u = new URL(`${server.url}/pypi/simple/`);
    if (token) {
      u.username = "__token__";
      u.password = token;
    }
    return u.toString();
  };
  const page = async (project: string, token?: string): Promise<ProjectPage> => {
    const res = await fetch(`${server.url}/pypi/simple/${project}/`, {
      headers: { accept: json, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(res.headers.get("content-type"), `${json}; charset=utf-8`);
    return (await res.json()) as ProjectPage;
  };

  before(async () => {
    data = await makeDataDir();
    work = await mkdtemp(join(tmpdir(), "protodepot-pypi-"));
    server = await startTestServer({ dataDir: data.dir, orgs: ["demo", "acme"] });
    port = new URL(server.url).port;
    ({ env, readerToken } = await seedPackageWorld(server.url, work));
  });
  after(async () => {
    await server?.stop();
    await data?.remove();
    await rm(work, { recursive: true, force: true });
  });

  it("pip installs a module's wheel, the dependency module's wheel comes along, and Python round-trips a message", async () => {
    const venv = await createVenv(join(work, "v1"));
    const { stdout } = await venv.pip(["install", "--no-cache-dir", "--index-url", index(), payments]);
    assert.match(stdout, new RegExp(`Successfully installed ${money}-1\\.1\\.1 ${payments}-1\\.1\\.1`));
    assert.equal(await venv.run(roundTrip), "36 EUR 12 2024-01-02T03:04:05Z True");
    const shown = (await venv.pip(["show", payments])).stdout;
    assert.match(shown, /^Version: 1\.1\.1$/m);
    assert.match(shown, new RegExp(`^Requires: protobuf, ${money}$`, "m"));
    // pip check: every requirement of what was installed here (protobuf>=3.20 from Debian) is satisfied. It also
    // judges Debian's own packages (the venv sees them), whose recommends a --no-install-recommends install leaves
    // out (pygobject without pycairo), so only its lines about our projects count.
    const check = await venv.pip(["check"]).then(
      (r) => r.stdout,
      (err: { stdout?: string }) => err.stdout ?? String(err),
    );
    const normal = (name: string) => name.toLowerCase().replace(/[-_.]+/g, "-");
    const ours = new Set([normal(payments), normal(money)]);
    const problems = check.split("\n").filter((line) => ours.has(normal(line.split(" ")[0] ?? "")));
    assert.deepEqual(problems, [], check);
  });

  it("protodepot/python-grpc: the stubs of Debian's gRPC plugin serve and call a method over loopback", {
    skip: grpcMissing,
  }, async () => {
    const venv = await createVenv(join(work, "v-grpc"));
    const project = "protodepot-python-grpc-demo-payments";
    // The python wheels first, then the stubs: each file belongs to one distribution, none is overwritten.
    await venv.pip(["install", "--no-cache-dir", "--index-url", index(), payments]);
    const { stdout } = await venv.pip(["install", "--no-cache-dir", "--index-url", index(), project]);
    assert.match(
      stdout,
      /Successfully installed protodepot-python-grpc-demo-money-1\.1\.1 protodepot-python-grpc-demo-payments-1\.1\.1/,
    );
    const requires = (await venv.pip(["show", project])).stdout;
    assert.match(
      requires,
      /^Requires: grpcio, protobuf, protodepot-python-demo-payments, protodepot-python-grpc-demo-money$/m,
    );
    const owners = await venv.run(`
import collections, importlib.metadata as md
owners = collections.defaultdict(list)
for d in md.distributions():
    if d.metadata["Name"].startswith("protodepot-"):
        for f in d.files or []:
            if f.suffix in (".py", ".pyi"):
                owners[str(f)].append(d.metadata["Name"])
print("\\n".join(f"{p} {' '.join(sorted(n))}" for p, n in sorted(owners.items())))
`);
    assert.match(owners, /^demo\/payments\/v1\/payments_pb2\.py protodepot-python-demo-payments$/m);
    assert.match(owners, /^demo\/payments\/v1\/payments_pb2_grpc\.py protodepot-python-grpc-demo-payments$/m);
    assert.deepEqual(
      owners.split("\n").filter((l) => l.split(" ").length > 2),
      [],
      `files of two distributions:\n${owners}`,
    );
    const script = `
from concurrent import futures
import grpc
from demo.payments.v1 import payments_pb2, payments_pb2_grpc

class Service(payments_pb2_grpc.PaymentServiceServicer):
    def CreatePayment(self, request, context):
        p = payments_pb2.Payment()
        p.CopyFrom(request.payment)
        p.status = payments_pb2.STATUS_PENDING
        return payments_pb2.CreatePaymentResponse(payment=p)

server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
payments_pb2_grpc.add_PaymentServiceServicer_to_server(Service(), server)
port = server.add_insecure_port("127.0.0.1:0")
server.start()
with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
    stub = payments_pb2_grpc.PaymentServiceStub(channel)
    res = stub.CreatePayment(payments_pb2.CreatePaymentRequest(payment=payments_pb2.Payment(id="p-9")), timeout=10)
server.stop(None)
print(res.payment.id, payments_pb2.Status.Name(res.payment.status))
`;
    assert.equal(await venv.run(script), "p-9 STATUS_PENDING");
  });

  it("serves PEP 503 HTML by default and PEP 691 JSON by Accept, with sha256 and PEP 714 core-metadata", async () => {
    const html = await fetch(`${server.url}/pypi/simple/${payments}/`);
    assert.equal(html.headers.get("content-type"), "text/html; charset=utf-8");
    const text = await html.text();
    const listed = await page(payments);
    const file = listed.files[0];
    assert.ok(file);
    assert.deepEqual(listed.versions, ["1.1.1"]);
    assert.equal(file.filename, "protodepot_python_demo_payments-1.1.1-py3-none-any.whl");
    assert.ok(text.includes(`${file.url}#sha256=${file.hashes.sha256}"`), text);
    assert.ok(text.includes(`data-core-metadata="sha256=${file["core-metadata"].sha256}"`));
    assert.ok(!text.includes("data-dist-info-metadata"), "PEP 658's key breaks Debian's pip 23.0.1");
    const wheel = new Uint8Array(
      await (await fetch(new URL(file.url, `${server.url}/pypi/simple/${payments}/`))).arrayBuffer(),
    );
    assert.equal(createHash("sha256").update(wheel).digest("hex"), file.hashes.sha256);
    const metadata = await (
      await fetch(new URL(`${file.url}.metadata`, `${server.url}/pypi/simple/${payments}/`))
    ).text();
    assert.equal(createHash("sha256").update(metadata).digest("hex"), file["core-metadata"].sha256);
    assert.match(metadata, /^Requires-Dist: protodepot-python-demo-money==1\.1\.1$/m);
    const root = await (await fetch(`${server.url}/pypi/simple/`, { headers: { accept: json } })).json();
    // Every template with a Python runtime library (protodepot/python, and python-grpc where Debian's plugin is).
    const grpcProjects = grpcMissing
      ? []
      : ["protodepot-python-grpc-demo-money", "protodepot-python-grpc-demo-payments"];
    assert.deepEqual(root, {
      meta: { "api-version": "1.4" },
      projects: [money, payments, ...grpcProjects].sort().map((name) => ({ name })),
    });
  });

  it("a private project installs with __token__:TOKEN@ in the index URL and is invisible without it", async () => {
    const anonymous = await fetch(`${server.url}/pypi/simple/${ledger}/`);
    assert.equal(anonymous.status, 404);
    assert.match(await anonymous.text(), /project protodepot-python-acme-ledger does not exist/);
    const rootText = await (await fetch(`${server.url}/pypi/simple/`)).text();
    assert.ok(!rootText.includes(ledger), "the anonymous root does not list private projects");
    const withToken = await fetch(`${server.url}/pypi/simple/`, {
      headers: { authorization: `Basic ${Buffer.from(`__token__:${readerToken}`).toString("base64")}` },
    });
    assert.ok((await withToken.text()).includes(`href="${ledger}/"`));

    const venv = await createVenv(join(work, "v2"));
    const refused = await venv.pip(["install", "--no-cache-dir", "--index-url", index(), ledger]).then(
      () => undefined,
      (err: { stderr: string }) => err.stderr,
    );
    assert.match(refused ?? "", /No matching distribution found for protodepot-python-acme-ledger/);
    const { stdout } = await venv.pip([
      "install",
      "--no-cache-dir",
      "--index-url",
      index(readerToken),
      ledger,
    ]);
    assert.match(stdout, new RegExp(`Successfully installed ${ledger}-1\\.1\\.1 ${money}-1\\.1\\.1`));
    assert.equal(
      await venv.run(
        "from acme.ledger.v1 import ledger_pb2\ne = ledger_pb2.Entry(account='a')\ne.amount.units = 3\n" +
          "print(ledger_pb2.Entry.FromString(e.SerializeToString()).amount.units)",
      ),
      "3",
    );
    const wrong = await fetch(`${server.url}/pypi/simple/`, {
      headers: { authorization: "Bearer pd_wrong" },
    });
    assert.equal(wrong.status, 401);
  });

  it("answers unknown projects and versions and names not ours with a readable 404; a shared name keeps its first reading", async () => {
    const cases: [string, number, RegExp][] = [
      [
        "/pypi/simple/protodepot-python-demo-nothing/",
        404,
        /project protodepot-python-demo-nothing does not exist/,
      ],
      ["/pypi/simple/nobody-python-demo-payments/", 404, /does not exist/],
      [
        "/pypi/simple/requests/",
        404,
        /project "requests" is not served here: it does not split into four names/,
      ],
      ["/pypi/simple/a-b-c-d/", 404, /does not split into four names of 2–64 characters/],
      ["/pypi/simple/caf%C3%A9-x-y-z/", 404, /is not served here/],
      [
        `/pypi/files/${payments}/protodepot_python_demo_payments-1.1.9-py3-none-any.whl`,
        404,
        /project protodepot-python-demo-payments has no version 1\.1\.9: module demo\/payments has no commit with sequence 9/,
      ],
      [
        `/pypi/files/${payments}/protodepot_python_demo_payments-1.7.1-py3-none-any.whl`,
        404,
        /has no version 1\.7\.1: template protodepot\/python has no version v?7/,
      ],
      [
        `/pypi/files/${payments}/protodepot_python_demo_payments-2.0-py3-none-any.whl`,
        404,
        /versions look like 1\./,
      ],
      [
        `/pypi/files/${payments}/other-1.1.1.tar.gz`,
        404,
        /its wheels are named protodepot_python_demo_payments-\{version\}/,
      ],
      ["/pypi/json/x", 404, /the simple index is at \/pypi\/simple\//],
    ];
    for (const [path, status, message] of cases) {
      const res = await fetch(`${server.url}${path}`);
      const text = await res.text();
      assert.equal(res.status, status, `${path}: ${text}`);
      assert.match(text, message, path);
    }
    // Two modules whose projects normalize to one name: demo-x/money and demo/x-money under protodepot/python.
    // The name keeps meaning the reading that existed first: creating the second changes nothing it serves.
    await cliOk(["org", "create", "demo-x"], env);
    await cliOk(
      ["push", await copyModule(join(repoRoot, "examples/money"), join(work, "m1"), "demo-x/money")],
      env,
    );
    const shared = `${server.url}/pypi/simple/protodepot-python-demo-x-money/`;
    const first = await fetch(shared);
    const firstPage = await first.text();
    assert.equal(first.status, 200, firstPage);
    assert.match(firstPage, /#sha256=[0-9a-f]{64}/);
    const later = await copyModule(join(repoRoot, "examples/money"), join(work, "m2"), "demo/x-money");
    const proto = join(later, "demo/money/v1/money.proto");
    // Other code than the first module's, so a wheel of it could not pass for the first one's.
    await writeFile(proto, `${await readFile(proto, "utf8")}\nmessage Rounding {\n  int32 digits = 1;\n}\n`);
    await cliOk(["push", later], env);
    const again = await fetch(shared);
    assert.equal(again.status, 200);
    assert.equal(await again.text(), firstPage, "the name still serves demo-x/money's wheels");
    const upload = await fetch(`${server.url}/pypi/simple/`, { method: "POST", body: "x" });
    assert.equal(upload.status, 412);
    const redirect = await fetch(`${server.url}/pypi/simple/Protodepot_Python.Demo-Payments`, {
      redirect: "manual",
    });
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.get("location"), `/pypi/simple/${payments}/`);
  });

  it("a wiped cache and a restart give the same wheel bytes: the index's sha256 is unchanged and pip installs again", async () => {
    const before = await page(payments);
    const beforeMoney = await page(money);
    const file = before.files[0];
    assert.ok(file);
    await server.stop();
    const wiped = await wipeArtifacts(data.dir);
    assert.ok(wiped >= 2, `expected the wheels to be wiped, wiped ${wiped}`);
    server = await startTestServer({ dataDir: data.dir, orgs: ["demo", "acme"], args: ["--port", port] });
    assert.deepEqual(await page(payments), before);
    assert.deepEqual(await page(money), beforeMoney);
    // pip verifies the hash of what it downloads against `#sha256=` (here also with --require-hashes).
    const venv = await createVenv(join(work, "v3"));
    const requirements = join(work, "requirements.txt");
    await writeFile(
      requirements,
      `${payments}==1.1.1 --hash=sha256:${file.hashes.sha256}\n` +
        `${money}==1.1.1 --hash=sha256:${beforeMoney.files[0]?.hashes.sha256}\n` +
        // --require-hashes covers every requirement; protobuf is Debian's, already installed, so it is not fetched.
        "",
    );
    await venv.pip([
      "install",
      "--no-cache-dir",
      "--no-deps",
      "--require-hashes",
      "--index-url",
      index(),
      "-r",
      requirements,
    ]);
    assert.equal(await venv.run(roundTrip), "36 EUR 12 2024-01-02T03:04:05Z True");
    assert.ok((await readFile(requirements, "utf8")).includes(file.hashes.sha256));
  });
});
