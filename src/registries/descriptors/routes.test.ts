import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import { Code, RegistryError } from "../../core/errors.js";
import type { Commit } from "../../core/types.js";
import { registerRegistry } from "../../http/registry-plugin.js";
import { type AuthService, anonymous } from "../../services/auth.js";
import type { DescriptorRequest } from "../../services/descriptors.js";
import { descriptorsRegistry } from "./routes.js";

const unused = () => Promise.reject(new Error("not used here"));
const auth: AuthService = {
  authenticate: async (header) => {
    if (header === "Bearer wrong") throw new RegistryError(Code.Unauthenticated, "unknown token");
    return anonymous;
  },
  issueToken: unused,
  listTokens: unused,
  revokeToken: unused,
  ensureAdmin: unused,
  openSession: unused,
  closeSession: unused,
};

const commit: Commit = {
  id: "c".repeat(32),
  moduleId: "m1",
  owner: "acme",
  module: "app",
  seq: 3,
  digest: "sha256:00",
  sourcesBlob: "s",
  imageBlob: "i",
  createdBy: "u1",
  createdAt: "2026-01-01T00:00:00.000Z",
};

describe("descriptor route", () => {
  let app: FastifyInstance;
  const asked: DescriptorRequest[] = [];

  before(async () => {
    app = Fastify();
    registerRegistry(
      app,
      auth,
      descriptorsRegistry({
        async descriptorSet(_principal, name, request) {
          asked.push(request);
          if (name.name !== "app") {
            throw new RegistryError(Code.NotFound, `module ${name.owner}/${name.name} does not exist`);
          }
          return { commit, bytes: new Uint8Array([10, 0]) };
        },
      }),
    );
    await app.ready();
  });
  after(() => app.close());

  it("asks for imports without source info by default and answers the bytes as application/x-protobuf", async () => {
    asked.length = 0;
    const res = await app.inject({ url: "/acme/app/descriptor/main" });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers["content-type"], "application/x-protobuf");
    assert.equal(res.headers["x-protodepot-commit"], commit.id);
    assert.equal(res.headers["cache-control"], "no-cache");
    assert.deepEqual([...res.rawPayload], [10, 0]);
    assert.deepEqual(asked, [{ ref: "main", imports: true, sourceInfo: false }]);
  });

  it("reads the flags as true/false or 1/0; by commit id the answer is immutable", async () => {
    asked.length = 0;
    const res = await app.inject({ url: `/acme/app/descriptor/${commit.id}?imports=0&source_info=true` });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers["cache-control"]), /immutable/);
    assert.deepEqual(asked, [{ ref: commit.id, imports: false, sourceInfo: true }]);
  });

  it("refuses other flag values, a flag given twice, a bad name and a wrong token, never asking the service", async () => {
    asked.length = 0;
    const cases: [string, number, RegExp, Record<string, string>?][] = [
      ["/acme/app/descriptor/main?imports=yes", 400, /\?imports=yes: expected true or false/],
      ["/acme/app/descriptor/main?source_info=1&source_info=0", 400, /\?source_info= given more than once/],
      ["/acme/Bad_Name/descriptor/main", 400, /Bad_Name/],
      ["/acme/app/descriptor/main", 401, /unknown token/, { authorization: "Bearer wrong" }],
    ];
    for (const [url, status, message, headers] of cases) {
      const res = await app.inject({ url, ...(headers ? { headers } : {}) });
      assert.equal(res.statusCode, status, `${url}: ${res.body}`);
      assert.match(res.body, message);
    }
    assert.deepEqual(asked, []);
  });

  it("renders the service's errors as plain text with their status", async () => {
    const res = await app.inject({ url: "/acme/nope/descriptor/main" });
    assert.equal(res.statusCode, 404);
    assert.equal(res.body, "module acme/nope does not exist\n");
  });
});
